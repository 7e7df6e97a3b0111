// orphan-fin-wait-1, run for real: the killed side's states, and the orphan's life and retransmissions.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/orphan-fin-wait-1.ts';
import { countIn, eventsOf, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('orphan-fin-wait-1', () => {
  it('a killed process leaves FIN-WAIT-1 orphans; an unacknowledged one is aborted after tcp_orphan_retries', async () => {
    const r = await runForTest('orphan-fin-wait-1', { retries: 1 });
    const ev = evidenceOf(r, lab);
    // 1 as asked, or more on a busy machine (each retry doubles the orphans' life; the lab notes why)
    expect(r.sysctls['net.ipv4.tcp_orphan_retries']).toBe(String(ev.retries));
    expect(eventsOf(r, 'note').some((e) => /^tcp_orphan_retries \d+, not 1: the harness runs/.test(e.detail))).toBe(ev.retries !== 1);
    expect(countIn(snapshotNamed(r, 'after the kill: FIN-WAIT-1'), { state: 'FIN-WAIT-1' })).toBe(1);
    expect(countIn(snapshotNamed(r, 'the second orphan: FIN-WAIT-1'), { state: 'FIN-WAIT-1' })).toBe(1);
    // the first orphan was held with the kernel's default retries, the second with the ones under test
    expect(eventsOf(r, 'sysctl').map((e) => e.data?.value)).toEqual(['8', String(ev.retries)]);
    expect([ev.afterKill, ev.afterAck]).toEqual(['FIN-WAIT-1', 'FIN-WAIT-2']);
    expect(ev.lifeMs).toBeGreaterThan(500);
    expect(ev.lifeMs).toBeLessThan(200 * 2 ** (ev.retries + 2) + 1000);
    expect(ev.retrans).toBeGreaterThanOrEqual(ev.retries);
    expect(ev.abortOnTimeout).toBe(1);
    expect([verdictOf(r, 'killed-passes-fin-wait-1'), verdictOf(r, 'orphan-fin-wait-1-retries')]).toEqual(['confirmed', 'confirmed']);
  });
});
