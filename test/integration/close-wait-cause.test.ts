// close-wait-cause, run for real: CLOSE-WAIT over loopback with no fault, and no counter of trouble moving.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/close-wait-cause.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-wait-cause', () => {
  it('an idle application leaves CLOSE-WAIT with nothing wrong on the wire; close() ends it', async () => {
    const r = await runForTest('close-wait-cause');
    const ev = evidenceOf(r, lab);
    expect(countIn(snapshotNamed(r, 'server end, its application idle'), { state: 'CLOSE-WAIT' })).toBe(1);
    expect(r.events.some((e) => e.kind === 'fault')).toBe(false); // no fault rule anywhere in this run
    expect(ev.wireTrouble).toBe(0);
    expect(ev.afterClose).toBe('absent');
    expect(verdictOf(r, 'close-wait-from-network')).toBe('refuted');
  });
});
