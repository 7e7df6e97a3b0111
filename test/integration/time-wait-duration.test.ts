// time-wait-duration waits out a real TIME-WAIT (about 61 s): the timers, lifetimes, reads and sysctls it rests on.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-duration.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-duration', () => {
  it('measures the TIME-WAIT timer and lifetime from the FIN, with and without tcp_fin_timeout=1, reading ss seldom', async () => {
    const r = await runForTest('time-wait-duration', {}, { capture: true });
    const { watched } = evidenceOf(r, lab);
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('1');
    expect(watched.map((w) => [w.finTimeout, w.startFrom])).toEqual([[60, "the peer's FIN"], [1, "the peer's FIN"]]);
    // the timer the evidence quotes is the one in the recorded snapshot, read after the FIN
    const first = snapshotNamed(r, 'default: TIME-WAIT').sockets.find((s) => s.state === 'TIME-WAIT' && s.local.endsWith(`:${watched[0].localPort}`))!;
    expect([watched[0].timer, watched[0].timerMs]).toEqual([first.timer!.raw, first.timer!.remainingMs]);
    for (const w of watched) {
      // the first read that listed it began after the FIN (the capture's kernel times and the lab's ms clock differ by rounding: 5 ms)
      expect(w.seen![0]).toBeGreaterThanOrEqual(w.start[1] - 5);
      // the socket ended 60 s after the FIN or a little later (timer wheel), and the reads caught the end to within 1 s
      expect(w.gone! - w.start[0]).toBeGreaterThanOrEqual(60_000);
      expect(w.listed! - w.start[1]).toBeLessThanOrEqual(67_500);
      expect(w.gone! - w.listed!).toBeLessThan(1000);
    }
    // read seldom while the timers run: a few dozen reads, not one every 100 ms
    const reads = (r.samples ?? []).filter((s) => s.wait === 'the end of both TIME-WAIT sockets').length;
    expect(reads).toBeGreaterThan(12);
    expect(reads).toBeLessThan(150);
    expect(countIn(snapshotNamed(r, 'after both are gone'), { state: 'TIME-WAIT' })).toBe(0);
    expect([verdictOf(r, 'time-wait-60s'), verdictOf(r, 'no-sysctl-shortens'), verdictOf(r, '2msl-1-to-4-minutes')]).toEqual(['confirmed', 'confirmed', 'confirmed']);
  }, 150_000);
});
