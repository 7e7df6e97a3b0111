// Runs close-unread-rst for real: the verdicts must match the client's Recv-Q before close(), what ss shows of
// both ends after it, the namespace's RST counters around it and what the server's recv(2) returned.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import type { SockRecord } from '../../harness/evidence/ss.ts';
import { eventsOf, expectGone, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const PORT = 9310;
const BYTES = 1234;

describe('close-unread-rst (real kernel)', () => {
  let r: LabResult;
  let clientPid = 0;
  beforeAll(async () => {
    r = await runForTest('close-unread-rst', { port: PORT, bytes: BYTES });
    clientPid = eventsOf(r, 'actor-spawn', { actor: 'client' })[0].data!.pid as number;
  });

  function evidence(name: 'unread' | 'all-read') {
    const before = snapshotNamed(r, `${name}: before close`);
    const client = before.sockets.find((s) => s.users?.some((u) => u.pid === clientPid))!;
    const after = snapshotNamed(r, `${name}: after close`);
    const same = (s: SockRecord) => s.local === client.local && s.peer === client.peer;
    const mirror = (s: SockRecord) => s.local === client.peer && s.peer === client.local;
    const counters = eventsOf(r, 'counters').find((e) => e.data!.label === `${name}: client close()`)!.data!;
    const reads = eventsOf(r, 'syscall', { case: name, side: 'server' }).map((e) => e.data!);
    return { client, clientAfter: after.sockets.filter(same), serverAfter: after.sockets.filter(mirror), counters, reads };
  }

  it('ran both cases with the actors gone afterwards', async () => {
    expect(r.outcome).toBe('ran');
    for (const e of eventsOf(r, 'actor-spawn')) await expectGone(e.data!.pid as number);
  });

  it('unread: RST verdict ⇔ an RST and an abort-on-close were counted, both ends vanished and recv() got ECONNRESET', () => {
    const x = evidence('unread');
    expect(x.client.recvQ).toBe(BYTES); // the kernel held the unread bytes at close()
    const counted = (x.counters['Tcp.OutRsts'] as number) >= 1 && (x.counters['TcpExt.TCPAbortOnClose'] as number) >= 1;
    const gone = x.clientAfter.length === 0 && x.serverAfter.length === 0;
    const reset = x.reads[0].errno === 'ECONNRESET';
    expect(verdictOf(r, 'unread-close-sends-rst')).toBe(counted && gone && reset ? 'confirmed' : counted || reset ? 'partly' : 'refuted');
  });

  it('all read: FIN verdict ⇔ no RST counted, the server end in CLOSE-WAIT and its recv() = EOF', () => {
    const x = evidence('all-read');
    expect(x.client.recvQ).toBe(0);
    const fin = x.serverAfter[0]?.state === 'CLOSE-WAIT' && x.counters['Tcp.OutRsts'] === 0 && x.reads[0].ret === 0;
    expect(verdictOf(r, 'read-close-sends-fin')).toBe(fin ? 'confirmed' : 'refuted');
  });

  it('all read: the kernel facts behind the FIN (not part of the verdict): the closed client end is an orphan in FIN-WAIT-2', () => {
    const x = evidence('all-read');
    expect(x.clientAfter.map((s) => s.state)).toEqual(['FIN-WAIT-2']);
    expect(x.clientAfter[0].users ?? []).toEqual([]);
  });
});
