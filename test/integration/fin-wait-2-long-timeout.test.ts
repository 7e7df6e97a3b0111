// fin-wait-2-long-timeout, run for real: the timers ss shows on an orphan when tcp_fin_timeout is above 60 s.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/fin-wait-2-long-timeout.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('fin-wait-2-long-timeout', () => {
  it('keepalive timer of (timeout - 60 s), then a FIN-WAIT-2 timer of the same length, then gone', async () => {
    const r = await runForTest('fin-wait-2-long-timeout', { 'fin-timeout': 62 });
    const ev = evidenceOf(r, lab);
    expect(snapshotNamed(r, 'orphaned FIN-WAIT-2').sockets.find((s) => s.state === 'FIN-WAIT-2')?.timer?.name).toBe('keepalive');
    expect(ev.remainingMs).toBeGreaterThan(1000);
    expect(ev.remainingMs).toBeLessThanOrEqual(2000);
    expect([ev.nextState, ev.next]).toEqual(['FIN-WAIT-2', 'timewait']);
    expect(ev.nextMs).toBeLessThanOrEqual(2000); // the second phase is (timeout - 60 s) again, not 60 s
    expect(ev.lifeMs).toBeLessThan(6000);
    expect(verdictOf(r, 'long-fin-timeout-keepalive-timer')).toBe('confirmed');
  });
});
