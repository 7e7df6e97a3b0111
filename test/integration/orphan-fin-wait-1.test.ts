// orphan-fin-wait-1, run for real: the killed side's states, and the orphan's life and retransmissions.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/orphan-fin-wait-1.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('orphan-fin-wait-1', () => {
  it('a killed process leaves FIN-WAIT-1 orphans; an unacknowledged one is aborted after tcp_orphan_retries', async () => {
    const r = await runForTest('orphan-fin-wait-1', { retries: 1 });
    const ev = evidenceOf(r, lab);
    expect(r.sysctls['net.ipv4.tcp_orphan_retries']).toBe('1');
    expect(countIn(snapshotNamed(r, 'after the kill: FIN-WAIT-1'), { state: 'FIN-WAIT-1' })).toBe(2);
    expect([ev.afterKill, ev.afterAck]).toEqual(['FIN-WAIT-1', 'FIN-WAIT-2']);
    expect(ev.lifeMs).toBeGreaterThan(500);
    expect(ev.lifeMs).toBeLessThan(4000);
    expect(ev.retrans).toBeGreaterThanOrEqual(1);
    expect(ev.abortOnTimeout).toBe(1);
    expect([verdictOf(r, 'killed-passes-fin-wait-1'), verdictOf(r, 'orphan-fin-wait-1-retries')]).toEqual(['confirmed', 'confirmed']);
  });
});
