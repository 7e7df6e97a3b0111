// time-wait-duration waits out a real TIME-WAIT (about 61 s): its verdicts must match the lifetimes it recorded.
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-duration', () => {
  it('measures the TIME-WAIT lifetime with and without tcp_fin_timeout=1', async () => {
    const r = await runForTest('time-wait-duration', { port: 9110 });
    const gone = eventsOf(r, 'gone');
    expect(gone).toHaveLength(2);
    const [base, tuned] = gone.map((e) => e.data!.lifetimeMs as number);
    const firstTimer = snapshotNamed(r, 'default: TIME-WAIT').sockets.find((s) => s.state === 'TIME-WAIT')!.timer!.remainingMs!;
    const sixty = Math.abs(base - 60_000) <= 3000 && firstTimer >= 57_000 && firstTimer <= 60_000;
    expect(verdictOf(r, 'time-wait-60s') === 'confirmed').toBe(sixty);
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('1');
    expect(verdictOf(r, 'no-sysctl-shortens') === 'confirmed').toBe(Math.abs(tuned - base) <= 2000);
    expect(countIn(snapshotNamed(r, 'after both are gone'), { port: 9110, state: 'TIME-WAIT' })).toBe(0);
  }, 150_000);
});
