// The live view of a snapshot (evidence/live.ts): the same sockets as filterSockets, only counted and cut.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { census, filterSockets, type SockFilter } from '../../harness/evidence/census.ts';
import { focusTest, liveView } from '../../harness/evidence/live.ts';
import { parseSs } from '../../harness/evidence/ss.ts';

const recs = [
  ...parseSs(readFileSync(new URL('../fixtures/ss-tanoH-mixed.txt', import.meta.url), 'utf8')),
  ...parseSs(readFileSync(new URL('../fixtures/ss-tanopH-mixed.txt', import.meta.url), 'utf8')),
];

describe('focusTest', () => {
  it('picks exactly what filterSockets picks, for every port and state in the recorded outputs', () => {
    const ports = [...new Set(recs.flatMap((r) => [r.local, r.peer].map((a) => a.slice(a.lastIndexOf(':') + 1))))].filter((p) => p !== '*').map(Number);
    const filters: SockFilter[] = [{}];
    for (const p of [...ports, 1, 80]) filters.push({ port: p }, { localPort: p }, { peerPort: p }, { port: p, state: 'ESTAB' }, { localPort: p, peerPort: ports[0] });
    filters.push({ state: 'LISTEN' }, { state: ['TIME-WAIT', 'CLOSE-WAIT'] }, { state: [] });
    for (const f of filters) expect(recs.filter(focusTest(f)), JSON.stringify(f)).toEqual(filterSockets(recs, f));
    expect(filters.length).toBeGreaterThan(30);
  });
});

describe('liveView', () => {
  it('counts every socket, and keeps only the first focused ones', () => {
    const many = Array.from({ length: 40 }, () => recs).flat();
    const v = liveView(many, { port: 8443 }, 5);
    expect(v.census).toEqual(census(many));
    expect(v.matched).toBe(filterSockets(many, { port: 8443 }).length);
    expect(v.sockets).toEqual(filterSockets(many, { port: 8443 }).slice(0, 5));
    const all = liveView(many);
    expect([all.matched, all.sockets.length]).toEqual([many.length, 12]);
    expect(JSON.stringify(v).length).toBeLessThan(JSON.stringify(many).length / 20);
  });
});
