// fin-wait-2-timeout, run for real: the orphan's timer and end from its FIN's ACK, the shutdown() socket's state and timers, the RST.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/fin-wait-2-timeout.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('fin-wait-2-timeout', () => {
  it('reaps the orphan when its tcp_fin_timeout timer runs out, keeps the shutdown() socket without a timer, and TCP_LINGER2=-1 resets', async () => {
    const r = await runForTest('fin-wait-2-timeout', { 'fin-timeout': 2, outlive: 2 }, { capture: true });
    const ev = evidenceOf(r, lab);
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('2');
    expect([ev.orphanFirst, ev.startFrom]).toEqual(['FIN-WAIT-2', 'the ACK of its FIN']);
    expect(ev.orphanTimer).toMatch(/^timer:\(timewait,/);
    // the ACK comes after close() and before the first read ends; the timer then showed about 2 s left
    expect(ev.start[0]).toBeGreaterThanOrEqual(ev.seen[0]);
    expect(ev.start[1]).toBeLessThanOrEqual(ev.seen[1]);
    expect(ev.seen[1] + ev.orphanTimerMs! - ev.start[0]).toBeGreaterThanOrEqual(2000);
    expect(ev.seen[0] + ev.orphanTimerMs! - ev.start[1]).toBeLessThanOrEqual(2010);
    // gone between the last read that listed it and the next: after the timer ran out, within the timer wheel's lateness
    expect(ev.gone! - ev.start[0]).toBeGreaterThanOrEqual(2000);
    expect(ev.listed - ev.start[1]).toBeLessThanOrEqual(2250);
    expect(ev.watchedMs).toBeGreaterThanOrEqual(4000);
    expect([ev.halfAlways, ev.halfTimers]).toEqual([true, []]);
    expect(snapshotNamed(r, 'end of the watch').sockets.filter((s) => s.state === 'FIN-WAIT-2')).toHaveLength(1);
    expect([ev.linger2, ev.lingerFirst, ev.lingerSeenFw2, ev.rsts]).toEqual([-1, 'absent', false, 1]);
    expect(['orphan-fin-wait-2-reaped', 'shutdown-fin-wait-2-unbounded', 'linger2-negative-skips'].map((id) => verdictOf(r, id))).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });
});
