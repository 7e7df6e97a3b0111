// Tests: article 000's remark that a socket in LAST-ACK no longer holds a file descriptor — checked with
// ss -p (users), ss -e (inode) and /proc/<pid>/fd, when LAST-ACK is reached by close() and by shutdown().
import net from 'node:net';
import { A000 } from '../harness/lab/articles.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { describeEnd, endIn, endsOf, stateIn, waitForEnd, waitForGone, type End } from '../harness/lab/endpoints.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { fdsHolding, inodeOfRecord, readSocketsWithInodes, socketInodeOf } from '../harness/evidence/fdinfo.ts';
import { shutdownFd } from '../harness/kernel/ffi.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { fdOf, openPair } from '../harness/kernel/sockets.ts';

const HOST = '127.0.0.1';
const HOW = ['close', 'shutdown'] as const;
type How = (typeof HOW)[number];

interface FdState {
  /** ss -p users of the socket (pid:fd) */
  users: string[];
  /** ss -e inode of the socket (0: no descriptor refers to it) */
  ssInode?: number;
  /** fds of this process that refer to the socket's original inode */
  fds: number[];
}

interface Case {
  how: How;
  server: net.Socket;
  end: End;
  fd: number;
  inode: number;
  closeWait?: FdState;
  lastAck?: FdState;
  afterClosed?: FdState;
}

/** What holds this socket now: ss -p users, ss -e inode, and our own /proc/self/fd links to its inode. */
async function fdState(ctx: LabContext, c: Case, label: string): Promise<FdState> {
  const rec = endIn(await readSocketsWithInodes(ctx.host), c.end);
  const st: FdState = {
    users: (rec?.users ?? []).map((u) => `${u.pid}:${u.fd}`),
    ssInode: rec ? inodeOfRecord(rec) : undefined,
    fds: fdsHolding(process.pid, c.inode),
  };
  ctx.event(
    'fd-check',
    `${label} (${c.how}): ss state ${rec?.state ?? 'absent'}, ss -p users ${st.users.length ? st.users.join(',') : 'none'}, ss -e ino ${st.ssInode ?? '-'}; /proc/${process.pid}/fd entries for socket:[${c.inode}]: ${st.fds.length ? st.fds.join(',') : 'none'}`,
    { how: c.how, label, state: rec?.state ?? 'absent', ...st, pid: process.pid, inode: c.inode, fd: c.fd },
  );
  return st;
}

const held = (s?: FdState) => !!s && (s.users.length > 0 || s.fds.length > 0);

export default defineLab({
  name: 'last-ack-fd',
  title: 'Does a socket in LAST-ACK still hold a file descriptor? (close() vs shutdown())',
  description:
    'Two connections are put in CLOSE-WAIT on the server side (the client half-closes). The server then sends its ' +
    'own FIN in two ways: close() on one, shutdown(SHUT_WR) on the other (the fd stays open). The client\'s final ' +
    'ACK is dropped by an nft rule so both server ends sit in LAST-ACK. At each step the lab records ss -p (which ' +
    'process and fd hold the socket), ss -e (the socket inode; 0 once no descriptor refers to it) and the ' +
    'process\'s own /proc/<pid>/fd links.',
  claims: [
    {
      id: 'last-ack-no-fd',
      source: A000,
      statement: 'Once a connection has moved on to LAST_ACK it no longer occupies one of the process\'s socket descriptors.',
    },
    {
      id: 'close-wait-holds-fd',
      source: A000,
      statement: 'A socket in CLOSE_WAIT occupies one of the process\'s socket descriptors (counted against ulimit -n).',
    },
  ],
  options: {
    port: { type: 'number', min: 1024, max: 60000, default: 9000, describe: 'server port of the close() case (the shutdown() case uses the next one)' },
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx: LabContext) {
    const P = ctx.options.port as number;
    const faults = await Faults.open(ctx);

    ctx.step(`two connections (:${P} and :${P + 1}); each client half-closes so the server ends go to CLOSE-WAIT`);
    const cases: Case[] = [];
    for (const [i, how] of HOW.entries()) {
      const { client, server, clientPort, serverPort } = await openPair((fn) => ctx.defer(fn), P + i, { host: HOST });
      const end = { ...endsOf(clientPort, serverPort).server, name: `server (${how})` };
      const fd = fdOf(server);
      const inode = socketInodeOf(process.pid, fd);
      if (inode === undefined) throw new Error(`fd ${fd} of the server socket is not a socket in /proc/${process.pid}/fd`);
      cases.push({ how, server, end, fd, inode });
      client.end();
      await waitForEnd(ctx, end, 'CLOSE-WAIT');
    }
    const servers = { state: ['CLOSE-WAIT', 'LAST-ACK'] } as const;
    const cwSnap = await ctx.snapshot('CLOSE-WAIT', { processes: true, focus: servers });
    for (const c of cases) c.closeWait = await fdState(ctx, c, 'in CLOSE-WAIT');

    ctx.step("drop the clients' ACKs, then the server sends its FIN: close() on one, shutdown(SHUT_WR) on the other");
    for (const c of cases) await faults.drop({ kind: 'ack', toPort: c.end.localPort }, `hold the ${c.end.name} end in LAST-ACK`);
    for (const c of cases) {
      if (c.how === 'close') c.server.destroy();
      else shutdownFd(c.fd, 1); // SHUT_WR straight on the fd: the descriptor stays open, Node is not told
      ctx.event('call', c.how === 'close' ? `close(${c.fd}) on the server socket` : `shutdown(${c.fd}, SHUT_WR) on the server socket; fd ${c.fd} stays open`, { how: c.how, fd: c.fd });
    }
    for (const c of cases) await waitForEnd(ctx, c.end, 'LAST-ACK');
    const laSnap = await ctx.snapshot('LAST-ACK', { processes: true, focus: servers });
    for (const c of cases) c.lastAck = await fdState(ctx, c, 'in LAST-ACK');

    ctx.step('lift the rule: the final ACK arrives and LAST-ACK ends');
    await faults.liftAll('the final ACKs may pass');
    for (const c of cases) await waitForGone(ctx, c.end, { timeoutMs: 4000 });
    await ctx.snapshot('after LAST-ACK', { processes: true });
    for (const c of cases) c.afterClosed = await fdState(ctx, c, 'after LAST-ACK');

    const show = (s?: FdState) => (s ? `users ${s.users.join(',') || 'none'}; ino ${s.ssInode ?? '-'}; /proc fds ${s.fds.join(',') || 'none'}` : 'not checked');
    ctx.table({
      title: `Descriptors holding the server socket (pid ${process.pid})`,
      columns: ['how the server sent its FIN', 'CLOSE-WAIT', 'LAST-ACK', 'after the final ACK'],
      rows: cases.map((c) => [c.how === 'close' ? `close(${c.fd})` : `shutdown(${c.fd}, SHUT_WR)`, show(c.closeWait), show(c.lastAck), show(c.afterClosed)]),
      note: 'users = ss -p (pid:fd); ino = ss -e inode (0 = no descriptor refers to the socket); /proc fds = entries of /proc/<pid>/fd linking to the socket\'s inode.',
    });

    // --- verdicts --------------------------------------------------------------------------------------------
    const byHow = (h: How) => cases.find((c) => c.how === h)!;
    const cl = byHow('close');
    const sh = byHow('shutdown');
    const inLastAck = (snap: SnapshotRecord, c: Case) => stateIn(snap, c.end) === 'LAST-ACK';
    if (!inLastAck(laSnap, cl) || !inLastAck(laSnap, sh)) {
      ctx.verdict('last-ack-no-fd', 'inconclusive', `server ends were not both in LAST-ACK: ${describeEnd(laSnap, cl.end)}; ${describeEnd(laSnap, sh.end)}`);
    } else if (!held(cl.lastAck) && held(sh.lastAck)) {
      ctx.verdict(
        'last-ack-no-fd',
        'partly',
        `It depends on how LAST-ACK was reached. After close(${cl.fd}) the LAST-ACK socket had no owner in ss -p, ss -e showed ino ${cl.lastAck?.ssInode}, and no fd of the process linked to socket:[${cl.inode}]. After shutdown(${sh.fd}, SHUT_WR) the socket was just as much in LAST-ACK but still held by fd ${sh.lastAck?.fds.join(',')} (ss -p users ${sh.lastAck?.users.join(',')}, ino ${sh.lastAck?.ssInode}); that fd ${held(sh.afterClosed) ? `even outlived the connection (still open after the final ACK)` : 'was released only later'}. LAST-ACK does not release the descriptor: close() does.`,
      );
    } else if (!held(cl.lastAck) && !held(sh.lastAck)) {
      ctx.verdict('last-ack-no-fd', 'confirmed', `Neither LAST-ACK socket was held by a descriptor (close: ${show(cl.lastAck)}; shutdown: ${show(sh.lastAck)}).`);
    } else {
      ctx.verdict('last-ack-no-fd', 'refuted', `The socket closed with close() was still held in LAST-ACK: ${show(cl.lastAck)}.`);
    }
    // the CLOSE-WAIT snapshot (ss -p) decides: a socket listed there without an owner is evidence against the claim
    const cwSeen = cases.filter((c) => stateIn(cwSnap, c.end) === 'CLOSE-WAIT');
    const cwOwned = cwSeen.filter((c) => (endIn(cwSnap, c.end)?.users?.length ?? 0) > 0);
    const cwText = cases.map((c) => `${describeEnd(cwSnap, c.end)} (ino ${c.closeWait?.ssInode ?? '-'}; /proc fds ${c.closeWait?.fds.join(',') || 'none'})`).join('; ');
    if (cwSeen.length < cases.length) {
      ctx.verdict('close-wait-holds-fd', 'inconclusive', `only ${cwSeen.length} of ${cases.length} server ends were in CLOSE-WAIT in the snapshot: ${cwText}`);
    } else if (cwOwned.length === 0) {
      ctx.verdict('close-wait-holds-fd', 'refuted', `No CLOSE-WAIT socket had an owning process in ss -p: ${cwText}.`);
    } else if (cwOwned.length < cwSeen.length) {
      ctx.verdict('close-wait-holds-fd', 'partly', `Only ${cwOwned.length} of ${cwSeen.length} CLOSE-WAIT sockets had an owning process in ss -p: ${cwText}.`);
    } else {
      ctx.verdict('close-wait-holds-fd', 'confirmed', `Both CLOSE-WAIT sockets were held by a descriptor of the server process (ss -p): ${cwText}.`);
    }
  },
});
