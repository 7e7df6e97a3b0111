import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';
import { sockAt, stateAt } from '../state-helpers.ts';

describe('fin-wait-2-timeout lab', () => {
  it('sees the orphan reaped by its timer while the half-closed socket outlives it', async () => {
    const r = await runForTest('fin-wait-2-timeout', { 'fin-timeout': 2, outlive: 2, port: 9000 });
    expect(r.outcome).toBe('ran');
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('2');
    // close() client -> :9000, shutdown() client -> :9001, TCP_LINGER2=-1 client -> :9002; times from the 'call' event
    const call = eventsOf(r, 'call')[0];
    const [cp, hp, lp] = ['closePort', 'shutdownPort', 'lingerPort'].map((k) => call.data![k] as number);
    const first = snapshotNamed(r, 'just after the calls');
    const samples = r.snapshots.filter((s) => s.label.startsWith('t='));
    const all = [first, ...samples];

    // orphan-fin-wait-2-reaped: decided by when the orphan left ss, against the window the lab recorded
    const window = eventsOf(r, 'window')[0].data as { lo: number; hi: number };
    const gone = samples.find((s) => !sockAt(s, cp, 9000));
    const goneAt = gone ? gone.atMs - call.atMs : undefined;
    const lastState = stateAt(all.at(-1)!, cp, 9000);
    const orphan =
      stateAt(first, cp, 9000) !== 'FIN-WAIT-2' ? 'inconclusive'
      : goneAt !== undefined && goneAt >= window.lo && goneAt <= window.hi ? 'confirmed'
      : goneAt !== undefined ? 'partly'
      : lastState === 'FIN-WAIT-2' ? 'refuted' : 'inconclusive';
    expect(verdictOf(r, 'orphan-fin-wait-2-reaped')).toBe(orphan);
    if (goneAt !== undefined) expect(eventsOf(r, 'expire')[0].data?.afterMs).toBe(goneAt);

    // shutdown-fin-wait-2-unbounded: the half-closed client in FIN-WAIT-2 in every sample, outliving the orphan
    const halfAlive = all.every((s) => stateAt(s, hp, 9001) === 'FIN-WAIT-2');
    expect(verdictOf(r, 'shutdown-fin-wait-2-unbounded')).toBe(halfAlive && goneAt !== undefined ? 'confirmed' : halfAlive ? 'inconclusive' : 'refuted');

    // linger2-negative-skips: never FIN-WAIT-2, gone at once, and RSTs counted by the rule
    const linger2 = eventsOf(r, 'sockopt')[0].data?.linger2 as number;
    const rstRule = eventsOf(r, 'fault', { op: 'install', kind: 'rst', fromPort: lp })[0];
    const rsts = eventsOf(r, 'fault', { op: 'lift', id: rstRule.data?.id })[0].data?.packets as number;
    const lingerSeen = all.some((s) => stateAt(s, lp, 9002) === 'FIN-WAIT-2');
    const skips = linger2 < 0 && !lingerSeen && stateAt(first, lp, 9002) === 'absent' && rsts > 0 ? 'confirmed' : lingerSeen ? 'refuted' : 'inconclusive';
    expect(verdictOf(r, 'linger2-negative-skips')).toBe(skips);

    // on this kernel: the orphan's countdown is ss's "timewait" timer, the half-closed one has none, all three hold
    expect(sockAt(first, cp, 9000)?.timer?.name).toBe('timewait');
    expect(sockAt(first, hp, 9001)?.timer).toBeUndefined();
    expect(r.claims.every((c) => c.verdict === 'confirmed')).toBe(true);
  });
});
