// simultaneous-close, run for real: how same-instant closes ended on loopback, and the held CLOSING.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/simultaneous-close.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('simultaneous-close', () => {
  it('holds CLOSING with a lost FIN, and reads how same-instant closes ended', async () => {
    const r = await runForTest('simultaneous-close', { trials: 6, gap: 100 });
    const ev = evidenceOf(r, lab);
    const settled = snapshotNamed(r, 'same-instant closes settled');
    expect(countIn(settled, { state: 'TIME-WAIT' })).toBe(ev.outcomes.reduce((n, x) => n + x.split(' / ').filter((s) => s === 'TIME-WAIT').length, 0));
    expect(ev.crossed).toBe(ev.outcomes.filter((x) => x === 'TIME-WAIT / TIME-WAIT').length);
    expect(countIn(snapshotNamed(r, 'CLOSING'), { state: 'CLOSING' })).toBe(1);
    expect([ev.serverWhenLost, ev.clientHeld, ev.serverWhileClosing, ev.finally]).toEqual(['ESTAB', 'CLOSING', 'FIN-WAIT-2', 'TIME-WAIT / TIME-WAIT']);
    expect(ev.finsDropped).toBeGreaterThanOrEqual(1);
    expect(verdictOf(r, 'closing-meaning')).toBe('confirmed');
    expect(verdictOf(r, 'closing-simultaneous')).toBe(ev.crossed === ev.trials ? 'confirmed' : 'partly');
  });
});
