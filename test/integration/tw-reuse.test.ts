// tw-reuse, run for real: which cells reused the TIME-WAIT port, when, and the server that could not.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/tw-reuse.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('tw-reuse', () => {
  it('reuses a TIME-WAIT port only with timestamps, after tcp_tw_reuse_delay, and only for connect()', async () => {
    const r = await runForTest('tw-reuse', { delays: '300', deadline: 1800 });
    const ev = evidenceOf(r, lab);
    const at = (topo: string, reuse: number, ts: number) => ev.cells.find((c) => c.topo === topo && c.reuse === reuse && c.ts === ts)!.evidence!;
    for (const c of ev.cells.filter((x) => x.ts === 0 || x.reuse === 0)) expect(c.evidence!.reusedAfterMs, `${c.topo} ${c.reuse} ${c.ts}`).toBeUndefined();
    for (const c of ev.cells.filter((x) => x.ts === 0 || x.reuse === 0)) expect(c.evidence!.failures).toContain('EADDRNOTAVAIL');
    for (const [topo, reuse] of [['loopback', 1], ['loopback', 2], ['two-host', 1]] as const) {
      const c = at(topo, reuse, 1);
      expect(c.reusedAfterMs, `${topo} ${reuse}`).toBeGreaterThanOrEqual(999);
      expect(c.reusedAfterMs).toBeLessThan(1700);
    }
    expect(at('two-host', 2, 1).reusedAfterMs).toBeUndefined(); // 2 = loopback only
    expect(ev.delays[0].evidence!.reusedAfterMs).toBeGreaterThanOrEqual(299);
    expect(ev.delays[0].evidence!.reusedAfterMs).toBeLessThan(1000);
    expect(ev.server).toMatchObject({ reuse: '1', bind: 'EADDRINUSE' });
    expect(snapshotNamed(r, 'server-side: TIME-WAIT on the listening port').sockets.some((s) => s.state === 'TIME-WAIT')).toBe(true);
    expect(['reuse-after-1s', 'reuse-needs-timestamps', 'reuse-client-only', 'tw-reuse-remedy'].map((id) => verdictOf(r, id))).toEqual(['confirmed', 'confirmed', 'confirmed', 'partly']);
  });
});
