// tw-reuse: every cell's claim of "reused" must match its own end snapshot (ESTAB from the single client port
// instead of TIME-WAIT), and the verdicts must follow from the cells.
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const PORT = 41000;

interface CellData {
  id: string;
  reuse: number;
  ts: number;
  topo: string;
  delay?: number;
  closeMs: number;
  reusedAfterMs?: number;
  lastFailAtMs?: number;
}

/**
 * Could reuse have begun `d` ms into TIME-WAIT? TIME-WAIT began between close() (0) and closeMs; a failed
 * connect() called at t had age >= t - closeMs <= d; a success returned at t had age <= t, > d (1 ms clock grain).
 */
const consistentWith = (c: CellData, d: number) =>
  c.reusedAfterMs !== undefined && c.reusedAfterMs >= d - 1 && (c.lastFailAtMs === undefined || c.lastFailAtMs - c.closeMs <= d + 1);

describe('tw-reuse', () => {
  it('runs the tcp_tw_reuse x tcp_timestamps x topology matrix', async () => {
    const r = await runForTest('tw-reuse', { delays: '300', deadline: 2000 });
    const cells = eventsOf(r, 'cell').map((e) => e.data as unknown as CellData);
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
    const reused = (pred: (c: CellData) => boolean) => cells.filter(pred).map((c) => reusedBySnapshot.get(c.id));
    const noTsReused = reused((c) => c.ts === 0 && c.reuse !== 0).some(Boolean);
    const tsReused = reused((c) => c.ts === 1).some(Boolean);
    expect(verdictOf(r, 'reuse-needs-timestamps')).toBe(noTsReused ? 'refuted' : tsReused ? 'confirmed' : 'inconclusive');

    const main = cells.find((c) => c.id === 'two-host-r1-t1');
    const extra = cells.filter((c) => c.delay !== undefined);
    const after1s =
      !main ? 'inconclusive'
      : !reusedBySnapshot.get(main.id) ? 'refuted'
      : consistentWith(main, 1000) && extra.every((c) => consistentWith(c, c.delay!)) ? 'confirmed'
      : 'partly';
    expect(verdictOf(r, 'reuse-after-1s')).toBe(after1s);

    const serverBinds = eventsOf(r, 'bind')[0].data!.results as string[];
    const serverBlocked = serverBinds.every((b) => b !== 'ok');
    expect(verdictOf(r, 'reuse-client-only') === 'confirmed').toBe(serverBlocked && cells.some((c) => reusedBySnapshot.get(c.id)));

    const defaultReuse = eventsOf(r, 'sysctl').find((e) => e.data?.reuse !== undefined)!.data!.reuse;
    const r1Works = reused((c) => c.reuse === 1 && c.ts === 1 && c.delay === undefined).every(Boolean);
    expect(verdictOf(r, 'tw-reuse-remedy')).toBe(!r1Works ? 'refuted' : defaultReuse === '0' ? 'confirmed' : 'partly');
  });
});
