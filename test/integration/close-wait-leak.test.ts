import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-wait-leak lab', () => {
  it('fills the fd limit with CLOSE-WAIT, sees EMFILE, and recovers after close()', async () => {
    const r = await runForTest('close-wait-leak', { nofile: 48, wait: 1, port: 9000 });
    expect(r.outcome).toBe('ran');
    const proc = eventsOf(r, 'process')[0].data!;
    const pid = proc.pid as number;
    const full = snapshotNamed(r, 'leak full').sockets.filter((s) => s.state === 'CLOSE-WAIT' && s.local.endsWith(':9000'));
    const held = full.filter((s) => s.users?.some((u) => u.pid === pid));
    const err = eventsOf(r, 'errno')[0]?.data;
    expect(verdictOf(r, 'close-wait-exhausts-fds') === 'confirmed').toBe(err?.code === 'EMFILE' && held.length === full.length && full.length === err?.kept);
    // the leak is bounded by the limit, and reached it
    expect(full.length).toBeGreaterThan(0);
    expect(full.length).toBeLessThan(48);

    const later = snapshotNamed(r, 'leak after 1 s').sockets.filter((s) => s.state === 'CLOSE-WAIT' && s.local.endsWith(':9000'));
    expect(verdictOf(r, 'close-wait-no-timeout') === 'confirmed').toBe(later.length === full.length && later.every((s) => !s.timer));

    const after = snapshotNamed(r, 'after close()').sockets.filter((s) => s.state === 'CLOSE-WAIT' && s.local.endsWith(':9000'));
    const accepted = eventsOf(r, 'accept').some((e) => e.data?.type === 'accepted');
    expect(verdictOf(r, 'close-fixes-it') === 'confirmed').toBe(after.length === 0 && accepted);
    expect(r.claims.every((c) => c.verdict === 'confirmed')).toBe(true);
  });
});
