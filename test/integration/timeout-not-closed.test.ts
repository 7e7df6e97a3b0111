// Runs timeout-not-closed for real: the verdicts must match the snapshots taken after each application timeout
// (both ends still ESTAB), the timers ss showed while the server was silent, the errno each client connection
// died with (actor events), the sockets left afterwards and the abort-on-timeout counter.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import type { SockRecord } from '../../harness/evidence/ss.ts';
import { eventsOf, expectGone, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const PORT = 9510;
const APP = ['Node socket.setTimeout (idle timer)', 'recv(2), SO_RCVTIMEO', 'send(2), SO_SNDTIMEO, peer not reading'];

describe('timeout-not-closed (real kernel)', () => {
  let r: LabResult;
  let clientPid = 0;
  beforeAll(async () => {
    r = await runForTest('timeout-not-closed', { port: PORT, 'app-timeout-ms': 200, 'user-timeout-ms': 800, retries2: 2, 'keepalive-idle': 1, 'keepalive-interval': 1, 'keepalive-count': 2 });
    clientPid = eventsOf(r, 'actor-spawn', { actor: 'client' })[0].data!.pid as number;
  }, 60_000);

  const clientEnds = (sockets: SockRecord[]) => sockets.filter((s) => s.peer.endsWith(`:${PORT}`) && s.users?.some((u) => u.pid === clientPid));
  const mirrorOf = (sockets: SockRecord[], c: SockRecord) => sockets.find((s) => s.local === c.peer && s.peer === c.local);

  it('ran, set tcp_retries2 inside the sandbox only, and left no actor behind', async () => {
    expect(r.outcome).toBe('ran');
    expect(r.sysctls['net.ipv4.tcp_retries2']).toBe('2');
    for (const e of eventsOf(r, 'actor-spawn')) await expectGone(e.data!.pid as number);
  });

  it('send-recv-timeout-closes ⇔ the timeouts fired (EAGAIN, a timeout event) and which connections left ESTAB on either end', () => {
    const timeouts = eventsOf(r, 'timeout').filter((e) => APP.includes(e.data!.name as string));
    expect(timeouts.map((e) => e.data!.name)).toEqual(APP);
    let stayed = 0;
    for (const t of timeouts) {
      // the very connection this timeout ran on: its client end (by port) and the server end mirroring it
      const snap = snapshotNamed(r, `after ${t.data!.name}`);
      const client = clientEnds(snap.sockets).find((s) => s.local.endsWith(`:${t.data!.clientPort}`));
      if (client?.state === 'ESTAB' && mirrorOf(snap.sockets, client)?.state === 'ESTAB') stayed++;
    }
    const clientTimeoutEvent = eventsOf(r, 'actor-event', { actor: 'client', kind: 'timeout' }).length > 0;
    const fired = clientTimeoutEvent && timeouts.slice(1).every((e) => e.data!.returned === 'EAGAIN');
    expect(verdictOf(r, 'send-recv-timeout-closes')).toBe(!fired ? 'inconclusive' : stayed === 3 ? 'refuted' : stayed === 0 ? 'confirmed' : 'partly');
  });

  it('kernel-timeout-closes ⇔ retransmit/keepalive timers were seen, each client connection died with ETIMEDOUT and vanished', () => {
    const silent = snapshotNamed(r, 'silent: the client retransmits and keeps alive');
    const ends = clientEnds(silent.sockets);
    const retrans = ends.filter((s) => s.timer?.name === 'on' && s.timer.retransmits >= 1);
    const keep = ends.filter((s) => s.timer?.name === 'keepalive');
    expect(retrans).toHaveLength(2);
    expect(keep).toHaveLength(1);
    const errors = eventsOf(r, 'actor-event', { actor: 'client', kind: 'error' }).map((e) => e.data!.code);
    const after = snapshotNamed(r, 'after the kernel timeouts');
    const vanished = [...retrans, ...keep].every((s) => !after.sockets.some((x) => x.local === s.local && x.peer === s.peer));
    const counters = eventsOf(r, 'counters').find((e) => e.data!.label === 'while the server was silent')!.data!;
    const all = errors.length === 3 && errors.every((c) => c === 'ETIMEDOUT') && vanished;
    if (all) expect(counters['TcpExt.TCPAbortOnTimeout']).toBe(3);
    expect(verdictOf(r, 'kernel-timeout-closes')).toBe(all ? 'confirmed' : errors.includes('ETIMEDOUT') ? 'partly' : 'refuted');
    // the silent server never learned about the retransmitting ones: their server ends were still ESTABLISHED
    for (const s of retrans) expect(mirrorOf(after.sockets, s)?.state).toBe('ESTAB');
  });
});
