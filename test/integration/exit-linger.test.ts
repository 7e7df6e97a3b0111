// exit-linger, run for real: close() blocks for l_linger; an exiting process does not.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/exit-linger.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('exit-linger', () => {
  it('close() waits out SO_LINGER; the process exit does not, and leaves the unsent data to the kernel', async () => {
    const r = await runForTest('exit-linger', { seconds: 1 });
    const ev = evidenceOf(r, lab);
    expect(ev.closeMs).toBeGreaterThanOrEqual(900);
    // the exit with a lingering socket takes about as long as one with nothing to linger, far less than l_linger more
    expect(ev.baselineMs).toBeDefined();
    expect(ev.exitMs - ev.baselineMs!).toBeLessThan(500);
    expect(ev.stateAfterExit).toBe('FIN-WAIT-1');
    expect(snapshotNamed(r, 'right after the exit').sockets.some((s) => s.state === 'FIN-WAIT-1' && s.sendQ === ev.unsentAfterExit)).toBe(true);
    expect(verdictOf(r, 'exit-ignores-linger')).toBe('confirmed');
  });
});
