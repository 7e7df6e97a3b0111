// fin-wait-2-timeout, run for real: when the orphan left ss, the shutdown() socket's state and timers, the RST.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/fin-wait-2-timeout.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('fin-wait-2-timeout', () => {
  it('reaps the orphan after tcp_fin_timeout, keeps the shutdown() socket without a timer, and TCP_LINGER2=-1 resets', async () => {
    const r = await runForTest('fin-wait-2-timeout', { 'fin-timeout': 2, outlive: 2 });
    const ev = evidenceOf(r, lab);
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('2');
    expect(ev.orphanFirst).toBe('FIN-WAIT-2');
    expect(ev.orphanTimer).toMatch(/^timer:\(timewait,/);
    expect(ev.goneAtMs).toBeGreaterThanOrEqual(1400);
    expect(ev.goneAtMs).toBeLessThanOrEqual(3500);
    expect(ev.watchedMs).toBeGreaterThanOrEqual(4000);
    expect([ev.halfAlways, ev.halfTimers]).toEqual([true, []]);
    expect(snapshotNamed(r, 'end of the watch').sockets.filter((s) => s.state === 'FIN-WAIT-2')).toHaveLength(1);
    expect([ev.linger2, ev.lingerFirst, ev.lingerSeenFw2, ev.rsts]).toEqual([-1, 'absent', false, 1]);
    expect(['orphan-fin-wait-2-reaped', 'shutdown-fin-wait-2-unbounded', 'linger2-negative-skips'].map((id) => verdictOf(r, id))).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });
});
