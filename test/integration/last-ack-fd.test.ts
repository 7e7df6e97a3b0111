import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('last-ack-fd lab', () => {
  it('judges descriptor ownership of LAST-ACK from ss -p and /proc, per close()/shutdown()', async () => {
    const r = await runForTest('last-ack-fd', { port: 9000 });
    expect(r.outcome).toBe('ran');
    const la = snapshotNamed(r, 'LAST-ACK').sockets.filter((s) => s.state === 'LAST-ACK' && s.local.endsWith(':9000'));
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

    const cw = snapshotNamed(r, 'CLOSE-WAIT').sockets.filter((s) => s.state === 'CLOSE-WAIT' && s.local.endsWith(':9000'));
    expect(verdictOf(r, 'close-wait-holds-fd') === 'confirmed').toBe(cw.length === 2 && cw.every((s) => (s.users ?? []).length > 0));
  });
});
