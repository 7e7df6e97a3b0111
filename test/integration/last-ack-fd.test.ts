import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('last-ack-fd lab', () => {
  it('judges descriptor ownership of LAST-ACK from ss -p and /proc, per close()/shutdown()', async () => {
    const r = await runForTest('last-ack-fd', { port: 9000 });
    expect(r.outcome).toBe('ran');
    // close() case on :9000, shutdown() case on :9001
    const servers = (label: string, state: string) => snapshotNamed(r, label).sockets.filter((s) => s.state === state && /:900[01]$/.test(s.local));
    const la = servers('LAST-ACK', 'LAST-ACK');
    expect(la.length).toBe(2);
    const owned = la.filter((s) => (s.users ?? []).length > 0).length;
    const check = (how: string) => eventsOf(r, 'fd-check', { how, label: 'in LAST-ACK' })[0].data!;
    const closeHeld = (check('close').fds as number[]).length > 0;
    const shutHeld = (check('shutdown').fds as number[]).length > 0;
    // ss -p and /proc agree
    expect(owned).toBe(Number(closeHeld) + Number(shutHeld));
    const v = verdictOf(r, 'last-ack-no-fd');
    expect(v === 'partly').toBe(!closeHeld && shutHeld);
    expect(v === 'refuted').toBe(closeHeld);
    expect(check('close').ssInode).toBe(0);

    // close-wait-holds-fd, every outcome, from the ss -p owners in the CLOSE-WAIT snapshot
    const cw = servers('CLOSE-WAIT', 'CLOSE-WAIT');
    const cwOwned = cw.filter((s) => (s.users ?? []).length > 0).length;
    const expected = cw.length < 2 ? 'inconclusive' : cwOwned === 0 ? 'refuted' : cwOwned < cw.length ? 'partly' : 'confirmed';
    expect(verdictOf(r, 'close-wait-holds-fd')).toBe(expected);
  });
});
