// time-wait-duration waits out a real TIME-WAIT (about 61 s): the lifetimes, timers and sysctls it rests on.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-duration.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-duration', () => {
  it('measures the TIME-WAIT lifetime with and without tcp_fin_timeout=1', async () => {
    const r = await runForTest('time-wait-duration');
    const { watched } = evidenceOf(r, lab);
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('1');
    expect(watched.map((w) => w.finTimeout)).toEqual([60, 1]);
    // the timer the evidence quotes is the one in the recorded snapshot
    const timer = snapshotNamed(r, 'default: TIME-WAIT').sockets.find((s) => s.state === 'TIME-WAIT')!.timer!.remainingMs;
    expect(watched[0].firstTimerMs).toBe(timer);
    for (const w of watched) {
      expect(w.lifeMs).toBeGreaterThanOrEqual(57_000);
      expect(w.lifeMs).toBeLessThanOrEqual(63_000);
    }
    expect(countIn(snapshotNamed(r, 'after both are gone'), { state: 'TIME-WAIT' })).toBe(0);
    expect([verdictOf(r, 'time-wait-60s'), verdictOf(r, 'no-sysctl-shortens'), verdictOf(r, '2msl-1-to-4-minutes')]).toEqual(['confirmed', 'confirmed', 'confirmed']);
  }, 150_000);
});
