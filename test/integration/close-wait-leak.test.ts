// close-wait-leak, run for real: the leak in ss -p, EMFILE under prlimit, no timer, and the cure.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/close-wait-leak.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-wait-leak', () => {
  it('fills the fd limit with CLOSE-WAIT, sees EMFILE, and recovers after close()', async () => {
    const r = await runForTest('close-wait-leak', { nofile: 48, wait: 2 });
    const ev = evidenceOf(r, lab);
    expect(ev.limits).toMatch(/Max open files 48 48/);
    expect(ev.error?.code).toBe('EMFILE');
    expect(Math.abs(ev.accepted - (48 - ev.fdsAtStart))).toBeLessThanOrEqual(1); // every descriptor left under the limit, give or take the one readdir used
    expect(countIn(snapshotNamed(r, 'leak full'), { state: 'CLOSE-WAIT' })).toBe(ev.accepted);
    expect(ev.full).toEqual({ closeWait: ev.accepted, held: ev.accepted, timers: 0 });
    expect(ev.later).toEqual(ev.full);
    expect(ev.watchedMs).toBeGreaterThanOrEqual(2000);
    expect(ev.fixed.closeWait).toBe(0);
    expect(ev.next).toBe('accepted');
    expect(['close-wait-no-timeout', 'close-wait-exhausts-fds', 'close-fixes-it'].map((id) => verdictOf(r, id))).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });
});
