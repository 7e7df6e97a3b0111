// last-ack-fd, run for real: which descriptors held each server socket, per ss -p and /proc/<pid>/fd.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/last-ack-fd.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('last-ack-fd', () => {
  it('close() frees the descriptor before LAST-ACK ends; shutdown() does not', async () => {
    const r = await runForTest('last-ack-fd');
    const ev = evidenceOf(r, lab);
    const [cl, sh] = ev.cases;
    expect([cl.closeWait.state, sh.closeWait.state, cl.lastAck.state, sh.lastAck.state]).toEqual(['CLOSE-WAIT', 'CLOSE-WAIT', 'LAST-ACK', 'LAST-ACK']);
    // what ss -p said is what the snapshots recorded
    const owners = (label: string) => snapshotNamed(r, label).sockets.filter((s) => s.state === label).map((s) => s.users?.map((u) => `${u.pid}:${u.fd}`) ?? []);
    expect(owners('CLOSE-WAIT').sort()).toEqual([cl.closeWait.users, sh.closeWait.users].sort());
    expect(cl.closeWait.users).toEqual([`${ev.pid}:${cl.fd}`]);
    expect(cl.lastAck).toMatchObject({ users: [], ino: 0, fds: [] });
    expect(sh.lastAck).toMatchObject({ users: [`${ev.pid}:${sh.fd}`], fds: [sh.fd] });
    expect(sh.after.fds).toEqual([sh.fd]); // the shutdown() fd outlives the connection
    expect([verdictOf(r, 'last-ack-no-fd'), verdictOf(r, 'close-wait-holds-fd')]).toEqual(['partly', 'confirmed']);
  });
});
