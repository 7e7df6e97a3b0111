// Does a socket in LAST-ACK still hold a file descriptor? Reached by close() and by shutdown().
import { A000, Faults, NFT_INSTALL, all, caveat, defineLab, endIn, fdOf, fdsHolding, inodeOfRecord, need, no, pair, readSocketsWithInodes, shutdownFd, socketInodeOf, waitForEnd, waitForGone, yes, type End } from '../harness/index.ts';

const HOW = ['close', 'shutdown'] as const;

export default defineLab({
  title: 'Does a socket in LAST-ACK still hold a file descriptor? (close() vs shutdown())',
  setup:
    'Two connections are put in CLOSE-WAIT on the server side (the client half-closes). The server then sends its own ' +
    'FIN in two ways: close() on one, shutdown(SHUT_WR) on the other (the fd stays open). An nft rule drops the ' +
    "client's final ACK so both server ends sit in LAST-ACK. At each step: ss -p (which process and fd hold the " +
    "socket), ss -e (its inode; 0 once no descriptor refers to it) and the process's own /proc/<pid>/fd links.",
  claims: {
    'last-ack-no-fd': [A000, "Once a connection has moved on to LAST_ACK it no longer occupies one of the process's socket descriptors."],
    'close-wait-holds-fd': [A000, "A socket in CLOSE_WAIT occupies one of the process's socket descriptors (counted against ulimit -n)."],
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    const faults = await Faults.open(ctx);
    ctx.step('two connections; each client half-closes so the server ends go to CLOSE-WAIT');
    const cases: { how: (typeof HOW)[number]; p: Awaited<ReturnType<typeof pair>>; end: End; fd: number; inode: number }[] = [];
    for (const how of HOW) {
      const p = await pair(ctx);
      const end: End = { ...p.ends.server, name: `server (${how})` };
      const fd = fdOf(p.server);
      cases.push({ how, p, end, fd, inode: socketInodeOf(process.pid, fd) ?? -1 });
      p.client.end();
      await waitForEnd(ctx, end, 'CLOSE-WAIT');
    }
    const look = async (label: string) => {
      const read = await readSocketsWithInodes(ctx.host);
      await ctx.snapshot(label, { processes: true, focus: { state: ['CLOSE-WAIT', 'LAST-ACK'] } });
      return Object.fromEntries(cases.map((c) => {
        const rec = endIn(read, c.end);
        return [c.how, { state: rec?.state ?? 'absent', users: (rec?.users ?? []).map((u) => `${u.pid}:${u.fd}`), ino: rec ? inodeOfRecord(rec) : undefined, fds: fdsHolding(process.pid, c.inode) }];
      }));
    };
    const closeWait = await look('CLOSE-WAIT');
    ctx.step("drop the clients' ACKs, then the server sends its FIN: close() on one, shutdown(SHUT_WR) on the other");
    for (const c of cases) await faults.drop({ kind: 'ack', toPort: c.end.localPort }, `hold the ${c.end.name} end in LAST-ACK`);
    for (const c of cases) if (c.how === 'close') c.p.server.destroy(); else shutdownFd(c.fd, 1); // SHUT_WR on the fd: it stays open
    for (const c of cases) await waitForEnd(ctx, c.end, 'LAST-ACK');
    const lastAck = await look('LAST-ACK');
    ctx.step('lift the rule: the final ACK arrives and LAST-ACK ends');
    await faults.liftAll('the final ACKs may pass');
    for (const c of cases) await waitForGone(ctx, c.end, { timeoutMs: 4000 });
    const after = await look('after LAST-ACK');
    return { pid: process.pid, cases: cases.map((c) => ({ how: c.how, fd: c.fd, inode: c.inode, closeWait: closeWait[c.how], lastAck: lastAck[c.how], after: after[c.how] })) };
  },
  judge: ({ cases }) => {
    const at = (how: string) => cases.find((c) => c.how === how);
    const held = (s?: { users: string[]; fds: number[] }) => s && (s.users.length > 0 || s.fds.length > 0);
    const inState = (k: 'closeWait' | 'lastAck', st: string) => cases.length === 2 && cases.every((c) => c[k].state === st);
    return {
      'last-ack-no-fd': all(
        need('both server ends were in LAST-ACK', inState('lastAck', 'LAST-ACK'), cases.map((c) => `${c.how}: ${c.lastAck.state}`).join(', ')),
        no('LAST-ACK reached by close(): held by a descriptor (ss -p or /proc/<pid>/fd)', held(at('close')?.lastAck)),
        caveat(no(`LAST-ACK reached by shutdown(SHUT_WR), fd ${at('shutdown')?.fd} left open: held by a descriptor`, held(at('shutdown')?.lastAck))),
      ),
      'close-wait-holds-fd': all(
        need('both server ends were in CLOSE-WAIT', inState('closeWait', 'CLOSE-WAIT'), cases.map((c) => `${c.how}: ${c.closeWait.state}`).join(', ')),
        cases.map((c) => yes(`CLOSE-WAIT socket of the ${c.how} case: owned by the process in ss -p (${c.closeWait.users.join(',') || 'none'})`, c.closeWait.users.length > 0)),
      ),
    };
  },
  tables: ({ pid, cases }) => [{
    title: `Descriptors holding the server socket (pid ${pid})`,
    columns: ['how the server sent its FIN', 'CLOSE-WAIT', 'LAST-ACK', 'after the final ACK'],
    rows: cases.map((c) => [c.how === 'close' ? `close(${c.fd})` : `shutdown(${c.fd}, SHUT_WR)`, ...[c.closeWait, c.lastAck, c.after].map((s) => `${s.state}: users ${s.users.join(',') || 'none'}; ino ${s.ino ?? '-'}; /proc fds ${s.fds.join(',') || 'none'}`)]),
    note: 'users = ss -p (pid:fd); ino = ss -e inode (0 = no descriptor refers to the socket); /proc fds = entries of /proc/<pid>/fd linking to its inode.',
  }],
});
