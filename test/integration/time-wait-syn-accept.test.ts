// time-wait-syn-accept, run for real: TIME-WAIT before, ESTAB after, and the client's counters per variant.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-syn-accept.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-syn-accept', () => {
  it("reconnects from the same client port into the server's TIME-WAIT", async () => {
    const r = await runForTest('time-wait-syn-accept', { mb: 64 });
    const { variants } = evidenceOf(r, lab);
    expect(variants).toHaveLength(4);
    for (const v of variants) {
      const e = v.evidence!;
      const id = `ts${v.ts}-${v.seq}`;
      expect(countIn(snapshotNamed(r, `${id}: server before the new SYN`), { peerPort: 45000, state: 'TIME-WAIT' }), id).toBe(e.twBefore);
      expect(e.twBefore, id).toBe(1);
      expect(countIn(snapshotNamed(r, `${id}: server after the new SYN`), { peerPort: 45000, state: 'ESTAB' }), id).toBe(e.estabAfter);
      expect(e.error, id).toBeUndefined(); // every reconnect connected on this kernel
    }
    const at = (ts: number, seq: string) => variants.find((v) => v.ts === ts && v.seq === seq)!.evidence!;
    for (const e of [at(0, 'ahead'), at(1, 'ahead'), at(1, 'behind')]) expect([e.clientRsts, e.synRetrans]).toEqual([0, 0]);
    expect(at(0, 'behind').clientRsts).toBeGreaterThanOrEqual(1); // the TIME-WAIT socket answered with its old ACK
    expect(at(0, 'behind').synRetrans).toBeGreaterThanOrEqual(1);
    expect([verdictOf(r, 'tw-accepts-higher-seq'), verdictOf(r, 'lower-seq-not-accepted')]).toEqual(['confirmed', 'partly']);
  });
});
