import { describe, expect, it } from 'vitest';
import { deadline, EMULATED_SCALE, loadScale, machineSlowness, MAX_LOAD_SCALE, timeScale } from '../../harness/kernel/pace.ts';
import { until } from '../../harness/kernel/wait.ts';
import { WaitTimeout } from '../../harness/errors.ts';

describe('deadlines on slower machines', () => {
  it('is 1 on an idle host, the load per core on a busy one, 10 in an emulated guest, and TCP_LAB_TIME_SCALE when it is a number from 1 to 100', () => {
    expect(timeScale({}, 1)).toBe(1);
    expect(timeScale({ TCP_LAB_RAN_ON: 'kvm' }, 1)).toBe(1);
    expect(timeScale({}, 2.5)).toBe(2.5);
    expect(timeScale({ TCP_LAB_RAN_ON: 'emulated' }, 2.5)).toBe(EMULATED_SCALE);
    // an emulated guest on a busy host (the load when it was started): slower still, up to the load cap
    expect(timeScale({ TCP_LAB_RAN_ON: 'emulated', TCP_LAB_HOST_LOAD: '2.5' }, 1)).toBe(25);
    expect(timeScale({ TCP_LAB_RAN_ON: 'emulated', TCP_LAB_HOST_LOAD: '9' }, 1)).toBe(EMULATED_SCALE * MAX_LOAD_SCALE);
    expect(timeScale({ TCP_LAB_RAN_ON: 'emulated', TCP_LAB_HOST_LOAD: 'busy' }, 1)).toBe(EMULATED_SCALE);
    expect(timeScale({ TCP_LAB_RAN_ON: 'kvm', TCP_LAB_HOST_LOAD: '3' }, 1)).toBe(1);
    expect(machineSlowness({ TCP_LAB_RAN_ON: 'emulated', TCP_LAB_HOST_LOAD: '3' })).toBe(EMULATED_SCALE); // labs' sandbox timers: never the load
    expect(timeScale({ TCP_LAB_RAN_ON: 'emulated', TCP_LAB_TIME_SCALE: '3' })).toBe(3);
    expect(timeScale({ TCP_LAB_TIME_SCALE: '0.5' }, 1)).toBe(1);
    expect(timeScale({ TCP_LAB_TIME_SCALE: 'fast' }, 1)).toBe(1);
  });

  it('reads the load as runnable tasks per core, from 1 to a cap', () => {
    expect(loadScale(0.3, 2)).toBe(1);
    expect(loadScale(5, 2)).toBe(2.5);
    expect(loadScale(40, 2)).toBe(MAX_LOAD_SCALE);
    expect(loadScale(3, 0)).toBe(3);
  });

  it("stretches a wait's deadline, not its answer", async () => {
    const saved = process.env.TCP_LAB_TIME_SCALE;
    process.env.TCP_LAB_TIME_SCALE = '4';
    try {
      expect(deadline(250)).toBe(1000);
      const t0 = Date.now();
      // the probe turns true after 120 ms: a 50 ms wait would time out on a host, and succeeds with scale 4
      const v = await until(async () => (Date.now() - t0 >= 120 ? { done: true as const, value: 'seen' } : { done: false as const, last: 'not yet' }), { what: 'x', timeoutMs: 50, intervalMs: 5 });
      expect(v).toBe('seen');
      const t1 = Date.now();
      await expect(until(async () => ({ done: false as const, last: 'never' }), { what: 'y', timeoutMs: 30, intervalMs: 5 })).rejects.toBeInstanceOf(WaitTimeout);
      expect(Date.now() - t1).toBeGreaterThanOrEqual(115);
    } finally {
      if (saved === undefined) delete process.env.TCP_LAB_TIME_SCALE;
      else process.env.TCP_LAB_TIME_SCALE = saved;
    }
  });
});
