// The nft fault rule builder: rules as data → nft script text, and reading handles/counters back.
import { describe, expect, it } from 'vitest';
import { addRuleScript, deleteRuleScript, describeRule, echoedHandle, listAndDeleteBatch, parseChainListing, ruleExpression, SEGMENT_KINDS, setupScript } from '../../harness/kernel/faults.ts';

describe('ruleExpression', () => {
  it('matches each segment kind by its flags', () => {
    expect(ruleExpression({ kind: 'syn', toPort: 9000 })).toBe('meta l4proto tcp tcp dport 9000 tcp flags & (fin|syn|rst|ack) == syn counter drop');
    expect(ruleExpression({ kind: 'syn-ack', fromPort: 9000 })).toBe('meta l4proto tcp tcp sport 9000 tcp flags & (syn|ack) == syn|ack counter drop');
    expect(ruleExpression({ kind: 'fin', toPort: 9000 })).toContain('tcp flags & fin == fin');
    expect(ruleExpression({ kind: 'rst', fromPort: 1 })).toContain('tcp flags & rst == rst');
    for (const k of ['ack', 'handshake-ack', 'fin-ack'] as const) {
      expect(ruleExpression({ kind: k, toPort: 9000 })).toBe('meta l4proto tcp tcp dport 9000 tcp flags & (fin|syn|rst|ack) == ack counter drop');
    }
    expect(ruleExpression({ kind: 'all' })).toBe('meta l4proto tcp counter drop');
  });

  it('aims by direction: fromPort is the source port, toPort the destination port, both may be given', () => {
    expect(ruleExpression({ kind: 'all', fromPort: 40000, toPort: 9000 })).toBe('meta l4proto tcp tcp sport 40000 tcp dport 9000 counter drop');
  });

  it('count rules have a counter and no verdict', () => {
    const e = ruleExpression({ kind: 'rst', fromPort: 5, action: 'count' });
    expect(e.endsWith('counter')).toBe(true);
    expect(e).not.toContain('drop');
  });

  it('rejects bad kinds and ports', () => {
    expect(() => ruleExpression({ kind: 'syn', toPort: 0 })).toThrow(/toPort/);
    expect(() => ruleExpression({ kind: 'syn', fromPort: 70000 })).toThrow(/fromPort/);
    expect(() => ruleExpression({ kind: 'bogus' as never })).toThrow(/kind 'bogus'/);
  });

  it('every kind builds', () => {
    for (const kind of SEGMENT_KINDS) expect(ruleExpression({ kind, toPort: 1 })).toMatch(/^meta l4proto tcp /);
  });
});

describe('scripts', () => {
  it('setup recreates our own table with an input-hook chain', () => {
    const s = setupScript();
    expect(s).toContain('table inet tcplab {');
    expect(s).toContain('type filter hook input priority 0; policy accept;');
    expect(s.indexOf('delete table inet tcplab')).toBeLessThan(s.indexOf('table inet tcplab {'));
  });
  it('adds a tagged rule and deletes by handle', () => {
    expect(addRuleScript({ kind: 'syn', toPort: 9000 }, 'f1')).toBe('add rule inet tcplab faults meta l4proto tcp tcp dport 9000 tcp flags & (fin|syn|rst|ack) == syn counter drop comment "f1"\n');
    expect(() => addRuleScript({ kind: 'syn' }, 'bad tag"')).toThrow(/tag/);
    expect(deleteRuleScript(7)).toBe('delete rule inet tcplab faults handle 7\n');
  });
  it('describes a rule in words', () => {
    expect(describeRule({ kind: 'fin-ack', fromPort: 9000 })).toBe('drop fin-ack segments from :9000');
    expect(describeRule({ kind: 'all', action: 'count' })).toBe('count every segment');
  });
});

describe('parseChainListing', () => {
  it('reads handles and packet counters by comment tag from nft -j output', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { chain: { family: 'inet', table: 'tcplab', name: 'faults', handle: 1 } },
        { rule: { handle: 2, comment: 'f1', expr: [{ match: {} }, { counter: { packets: 3, bytes: 180 } }, { drop: null }] } },
        { rule: { handle: 5, comment: 'f2', expr: [{ counter: { packets: 0, bytes: 0 } }] } },
        { rule: { handle: 6, expr: [{ counter: { packets: 9, bytes: 9 } }] } },
      ],
    });
    const m = parseChainListing(json);
    expect(m.get('f1')).toEqual({ handle: 2, packets: 3 });
    expect(m.get('f2')).toEqual({ handle: 5, packets: 0 });
    expect(m.size).toBe(2);
  });
});

describe('one nft run per install and per lift', () => {
  it('finds the added rule\'s handle in what nft --echo --handle printed, by its exact tag', () => {
    const out = 'add rule inet tcplab faults tcp dport 9000 counter packets 0 bytes 0 drop comment "f12" # handle 14\n'
      + 'add rule inet tcplab faults tcp dport 9001 counter packets 0 bytes 0 drop comment "f1" # handle 3\n# new generation 4 by process 77 (nft)\n';
    expect(echoedHandle(out, 'f1')).toBe(3);
    expect(echoedHandle(out, 'f12')).toBe(14);
    expect(echoedHandle(out, 'f2')).toBeUndefined();
    expect(echoedHandle('add rule inet tcplab faults counter comment "f1"\n', 'f1')).toBeUndefined();
  });
  it('lists the chain before deleting the rules, in one JSON batch', () => {
    const batch = JSON.parse(listAndDeleteBatch([4, 9])) as { nftables: Record<string, unknown>[] };
    expect(batch.nftables).toEqual([
      { list: { chain: { family: 'inet', table: 'tcplab', name: 'faults' } } },
      { delete: { rule: { family: 'inet', table: 'tcplab', chain: 'faults', handle: 4 } } },
      { delete: { rule: { family: 'inet', table: 'tcplab', chain: 'faults', handle: 9 } } },
    ]);
  });
});
