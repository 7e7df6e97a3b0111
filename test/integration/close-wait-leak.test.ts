import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-wait-leak lab', () => {
  it('fills the fd limit with CLOSE-WAIT, sees EMFILE, and recovers after close()', async () => {
    const r = await runForTest('close-wait-leak', { nofile: 48, wait: 1, port: 9000 });
    expect(r.outcome).toBe('ran');
    const pid = eventsOf(r, 'process')[0].data!.pid as number;
    const closeWait = (label: string) => snapshotNamed(r, label).sockets.filter((s) => s.state === 'CLOSE-WAIT' && s.local.endsWith(':9000'));
    const full = closeWait('leak full');
    const later = closeWait('leak after 1 s');
    const after = closeWait('after close()');
    const held = full.filter((s) => s.users?.some((u) => u.pid === pid));
    const err = eventsOf(r, 'errno')[0]?.data;
    const accepted = eventsOf(r, 'leak')[0].data!.accepted as number;
    const closed = eventsOf(r, 'close')[0].data!;
    const next = eventsOf(r, 'accept', { which: 'new' })[0].data!;

    // each verdict, every outcome, from the snapshots and the server's own reports
    const noTimeout = full.length === 0 ? 'inconclusive' : later.length < full.length ? 'refuted' : later.some((s) => s.timer) ? 'partly' : 'confirmed';
    expect(verdictOf(r, 'close-wait-no-timeout')).toBe(noTimeout);
    const exhausts = !err ? 'refuted' : err.code !== 'EMFILE' ? 'partly' : held.length !== full.length || full.length !== accepted ? 'partly' : 'confirmed';
    expect(verdictOf(r, 'close-wait-exhausts-fds')).toBe(exhausts);
    const fixes = accepted === 0 || closed.count !== accepted ? 'inconclusive' : after.length > 0 || next.type !== 'accepted' ? 'refuted' : 'confirmed';
    expect(verdictOf(r, 'close-fixes-it')).toBe(fixes);

    // the leak is bounded by the limit, and reached it
    expect(full.length).toBeGreaterThan(0);
    expect(full.length).toBeLessThan(48);
    // on this kernel all three hold
    expect(r.claims.every((c) => c.verdict === 'confirmed')).toBe(true);
  });
});
