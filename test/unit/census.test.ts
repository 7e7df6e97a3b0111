import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { census, diffSockets, filterSockets, formatCensus, RFC_NAME } from '../../harness/evidence/census.ts';
import { parseSs, parseSsLine, SS_STATES } from '../../harness/evidence/ss.ts';

const recs = parseSs(readFileSync(new URL('../fixtures/ss-tanoH-mixed.txt', import.meta.url), 'utf8'));

describe('census', () => {
  it('counts sockets per state like netstat | awk', () => {
    expect(census(recs)).toEqual({ ESTAB: 4, LISTEN: 2, 'CLOSE-WAIT': 1, 'FIN-WAIT-2': 1, 'TIME-WAIT': 1 });
    expect(formatCensus(census(recs))).toBe('ESTAB 4, LISTEN 2, CLOSE-WAIT 1, FIN-WAIT-2 1, TIME-WAIT 1');
    expect(formatCensus({})).toBe('no sockets');
  });
  it('maps every ss state to an RFC name', () => {
    for (const s of SS_STATES) expect(RFC_NAME[s]).toMatch(/^[A-Z_0-9]+$/);
    expect(RFC_NAME['SYN-RECV']).toBe('SYN_RCVD');
  });
});

describe('filterSockets', () => {
  it('filters by either port, local port, peer port and state(s)', () => {
    expect(filterSockets(recs, { port: 8443 })).toHaveLength(4);
    expect(filterSockets(recs, { localPort: 8443 })).toHaveLength(3);
    expect(filterSockets(recs, { peerPort: 8443 })).toHaveLength(1);
    expect(filterSockets(recs, { port: 8443, state: 'TIME-WAIT' })).toHaveLength(1);
    expect(filterSockets(recs, { state: ['LISTEN', 'CLOSE-WAIT'] })).toHaveLength(3);
    expect(filterSockets(recs, { port: 1 })).toHaveLength(0);
  });
});

describe('diffSockets', () => {
  const l = (s: string) => parseSsLine(s);
  it('reports added, removed and state changes of the same address pair', () => {
    const before = [l('LISTEN 0 511 127.0.0.1:9000 0.0.0.0:*'), l('ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5000'), l('ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5001')];
    const after = [l('ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5001'), l('TIME-WAIT 0 0 127.0.0.1:9000 127.0.0.1:5000 timer:(timewait,59sec,0)'), l('LISTEN 0 511 127.0.0.1:9001 0.0.0.0:*')];
    const d = diffSockets(before, after);
    expect(d.removed.map((r) => r.local)).toEqual(['127.0.0.1:9000']);
    expect(d.removed[0].state).toBe('LISTEN');
    expect(d.added.map((r) => r.local)).toEqual(['127.0.0.1:9001']);
    expect(d.changed).toHaveLength(1);
    expect([d.changed[0].before.state, d.changed[0].after.state]).toEqual(['ESTAB', 'TIME-WAIT']);
  });
  it('finds nothing between a snapshot and itself', () => {
    expect(diffSockets(recs, recs)).toEqual({ added: [], removed: [], changed: [] });
  });
});
