// close-wait-cause, run for real: CLOSE-WAIT after the peer's FIN; a failed network ends the socket without it.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/close-wait-cause.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-wait-cause', () => {
  it('the peer closing gives CLOSE-WAIT over a clean wire; a failed network takes ESTAB straight to closed', async () => {
    const r = await runForTest('close-wait-cause');
    const ev = evidenceOf(r, lab);
    expect(countIn(snapshotNamed(r, 'server end after the peer closed'), { state: 'CLOSE-WAIT' })).toBe(1);
    expect(ev.wireTrouble).toBe(0);
    expect(ev.networkStates).not.toContain('CLOSE-WAIT');
    expect(ev.networkStates.at(-1)).toBe('absent'); // TCP_USER_TIMEOUT ended it
    expect(verdictOf(r, 'close-wait-from-network')).toBe('partly');
  });
});
