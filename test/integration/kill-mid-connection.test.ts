// Runs kill-mid-connection for real and checks each verdict against the snapshots (which process held which
// socket, in which state, before and after each kill) and the recorded return values of the peer's calls.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabResult, SnapshotRecord } from '../../harness/evidence/records.ts';
import type { SockRecord } from '../../harness/evidence/ss.ts';
import { eventsOf, expectGone, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const PORT = 9410;
const BYTES = 700;
const key = (s: SockRecord) => `${s.local} ${s.peer}`;
const mirror = (s: SockRecord) => `${s.peer} ${s.local}`;
const find = (snap: SnapshotRecord, k: string) => snap.sockets.filter((s) => key(s) === k);

describe('kill-mid-connection (real kernel)', () => {
  let r: LabResult;
  const pid: Record<string, number> = {};
  beforeAll(async () => {
    r = await runForTest('kill-mid-connection', { port: PORT, bytes: BYTES });
    for (const e of eventsOf(r, 'actor-spawn')) pid[e.data!.actor as string] = e.data!.pid as number;
  });

  /** The victim's sockets before its kill, split by whether they held unread bytes, and what became of both ends. */
  function fate(signal: 'SIGKILL' | 'SIGTERM') {
    const victim = pid[signal === 'SIGKILL' ? 'victim-kill' : 'victim-term'];
    const before = snapshotNamed(r, `${signal}: before kill`);
    const after = snapshotNamed(r, `${signal}: after kill`);
    const mine = before.sockets.filter((s) => s.state === 'ESTAB' && s.users?.some((u) => u.pid === victim));
    const rows = mine.map((s) => ({
      unread: s.recvQ,
      victimAfter: find(after, key(s)),
      peerAfter: find(after, mirror(s)),
    }));
    return { victim, mine, rows };
  }

  it('killed the victims with the signals it names, and every actor is gone', async () => {
    expect(r.outcome).toBe('ran');
    expect(eventsOf(r, 'kill').map((e) => e.data!.signal)).toEqual(['SIGKILL', 'SIGTERM']);
    expect(Object.keys(pid).sort()).toEqual(['peer', 'victim-kill', 'victim-term']);
    for (const p of Object.values(pid)) await expectGone(p);
  });

  it('kill-sends-fin: FIN-WAIT-2 and CLOSE-WAIT when nothing was unread, both ends gone when data was', () => {
    let clean = 0, fin = 0, unread = 0, rst = 0;
    for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
      const { mine, rows } = fate(sig);
      expect(mine).toHaveLength(5); // 4 as client, 1 as server
      for (const row of rows) {
        if (row.unread === 0) {
          clean++;
          if (row.victimAfter[0]?.state === 'FIN-WAIT-2' && row.peerAfter[0]?.state === 'CLOSE-WAIT') fin++;
        } else {
          expect(row.unread).toBe(BYTES);
          unread++;
          if (row.victimAfter.length === 0 && row.peerAfter.length === 0) rst++;
        }
      }
    }
    expect(clean).toBe(6);
    expect(unread).toBe(4);
    const expected = fin === clean && rst === unread ? 'partly' : fin === clean && rst === 0 ? 'confirmed' : fin ? 'partly' : 'refuted';
    expect(verdictOf(r, 'kill-sends-fin')).toBe(expected);
  });

  it('kernel fact (not part of a verdict): a killed process\'s FIN-WAIT-2 sockets are held by no process', () => {
    for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
      for (const row of fate(sig).rows) for (const s of row.victimAfter.filter((x) => x.state === 'FIN-WAIT-2')) expect(s.users ?? []).toEqual([]);
    }
  });

  it('peer-close-wait: the peer process holds a CLOSE-WAIT socket for every clean connection', () => {
    let clean = 0, cw = 0;
    for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
      for (const row of fate(sig).rows.filter((x) => x.unread === 0)) {
        clean++;
        if (row.peerAfter[0]?.state === 'CLOSE-WAIT' && row.peerAfter[0].users?.some((u) => u.pid === pid.peer)) cw++;
      }
    }
    expect(verdictOf(r, 'peer-close-wait')).toBe(cw === clean ? 'confirmed' : cw ? 'partly' : 'refuted');
  });

  const calls = () => eventsOf(r, 'syscall').filter((e) => e.data?.step !== undefined);
  const byConn = (unread: boolean) => {
    const groups = new Map<string, Record<string, unknown>[]>();
    for (const e of calls().filter((x) => ((x.data!.unread as number) > 0) === unread)) {
      const k = `${e.data!.signal} ${e.data!.role} ${e.data!.unread} ${e.data!.order}`;
      groups.set(k, [...(groups.get(k) ?? []), e.data!]);
    }
    return [...groups.values()];
  };

  it('peer-write-draws-rst: the first write in CLOSE-WAIT succeeded, an RST was counted and the socket disappeared', () => {
    const firsts = byConn(false).map((ops) => ops.find((o) => o.call === 'write')!);
    expect(firsts).toHaveLength(6);
    const ok = firsts.filter((o) => o.ret === 100 && (o.outRsts as number) >= 1 && o.peerAfter === 'absent').length;
    expect(verdictOf(r, 'peer-write-draws-rst')).toBe(ok === firsts.length ? 'confirmed' : ok ? 'partly' : 'refuted');
    // and nothing of those connections is left once the peer has made its calls
    for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
      const end = snapshotNamed(r, `${sig}: after the peer's calls`);
      for (const s of fate(sig).mine) expect([...find(end, key(s)), ...find(end, mirror(s))]).toEqual([]);
    }
  });

  it('read/write after the RST: the verdicts match the recorded return values', () => {
    const after = byConn(false).map((ops) => ops.slice(ops.findIndex((o) => o.call === 'write') + 1));
    const reads = after.flat().filter((o) => o.call === 'read');
    const writes = after.flat().filter((o) => o.call === 'write');
    expect(reads.length).toBeGreaterThan(0);
    const resets = reads.filter((o) => o.errno === 'ECONNRESET').length;
    expect(verdictOf(r, 'read-after-rst-econnreset')).toBe(resets === reads.length ? 'confirmed' : resets ? 'partly' : 'refuted');
    const pipes = writes.filter((o) => o.errno === 'EPIPE').length;
    expect(verdictOf(r, 'write-after-rst-epipe')).toBe(pipes === writes.length ? 'confirmed' : pipes ? 'partly' : 'refuted');
    // with unread data the kill itself reset the connection: the first call, read or write, reported it
    for (const ops of byConn(true)) expect(ops[0].errno).toBe('ECONNRESET');
  });
});
