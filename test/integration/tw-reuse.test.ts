// tw-reuse: every cell's claim of "reused" must match its own end snapshot (ESTAB from the single client port
// instead of TIME-WAIT), and the verdicts must follow from the cells.
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const PORT = 41000;

describe('tw-reuse', () => {
  it('runs the tcp_tw_reuse x tcp_timestamps x topology matrix', async () => {
    const r = await runForTest('tw-reuse', { delays: '300', deadline: 2000 });
    const cells = eventsOf(r, 'cell').map((e) => e.data as { id: string; reuse: number; ts: number; topo: string; delay?: number; reusedAfterMs?: number });
    expect(cells).toHaveLength(13);
    const reusedBySnapshot = new Map<string, boolean>();
    for (const c of cells) {
      const snap = snapshotNamed(r, `${c.id}: end`);
      const estab = countIn(snap, { localPort: PORT, state: 'ESTAB' });
      const tw = countIn(snap, { localPort: PORT, state: 'TIME-WAIT' });
      reusedBySnapshot.set(c.id, estab === 1 && tw === 0);
      expect(c.reusedAfterMs !== undefined, c.id).toBe(estab === 1 && tw === 0);
      if (c.reusedAfterMs === undefined) expect(tw, c.id).toBe(1);
    }
    const reused = (pred: (c: (typeof cells)[number]) => boolean) => cells.filter(pred).map((c) => reusedBySnapshot.get(c.id));
    const noTsReused = reused((c) => c.ts === 0).some(Boolean);
    const tsReused = reused((c) => c.ts === 1).some(Boolean);
    expect(verdictOf(r, 'reuse-needs-timestamps')).toBe(noTsReused ? 'refuted' : tsReused ? 'confirmed' : 'inconclusive');
    const main = cells.find((c) => c.id === 'two-host-r1-t1')!;
    expect(verdictOf(r, 'reuse-after-1s') === 'refuted').toBe(main.reusedAfterMs === undefined);
    const serverBinds = eventsOf(r, 'bind')[0].data!.results as string[];
    const serverBlocked = serverBinds.every((b) => b !== 'ok');
    expect(verdictOf(r, 'reuse-client-only') === 'confirmed').toBe(serverBlocked && cells.some((c) => reusedBySnapshot.get(c.id)));
  });
});
