// A process killed mid-connection: what its kernel sends, where the peer is left, and what its calls return.
import { A003, WaitTimeout, all, caveat, check, checkActors, defineLab, endIn, every, formatResult, int, is, need, readSockets, startActors, stateIn, type End } from '../harness/index.ts';

const ORDERS = { 'read-first': ['read', 'write', 'read', 'write'], 'write-first': ['write', 'write', 'read', 'write'] } as const;
type Conn = { role: 'client' | 'server'; unread: number; order: keyof typeof ORDERS; killed: End; peer: End; conn: number };

export default defineLab({
  title: 'Kill a process mid-connection: FIN or RST, CLOSE-WAIT, then what read and write return',
  setup:
    'A peer process (allowHalfOpen and not reading, like a C server that has not called read yet) holds five ' +
    'connections with a victim process: the victim is the client on four (two with bytes left unread in its receive ' +
    'buffer, two without) and the server on one. The victim is killed with SIGKILL, and a second victim with ' +
    "SIGTERM. ss -tanop before and after shows each end's state and owner; then the peer calls recv(2)/send(2) on " +
    'each connection, read first or write first, and every return value and RST counted is recorded.',
  claims: {
    'kill-sends-fin': [A003, "When a process is killed, the kernel closes its connections with a FIN; the killed side reaches FIN-WAIT-2 once the peer ACKs."],
    'peer-close-wait': [A003, 'The peer receives the FIN, ACKs it and stays in CLOSE-WAIT while its process is alive and has not closed.'],
    'peer-write-draws-rst': [A003, "The peer's write on that connection succeeds without an error, the killed side answers with RST and the peer's socket is closed."],
    'read-after-rst-econnreset': [A003, 'After its write has drawn the RST, a read by the peer fails with "connection reset" (ECONNRESET).'],
    'write-after-rst-epipe': [A003, 'After its first write has drawn the RST, a further write by the peer fails with "broken pipe" (EPIPE).'],
  },
  options: { bytes: int(1, 60000, 1000, "bytes left unread in the victim's receive buffer in the unread cases", 'bytes') },
  async run(ctx, o) {
    const [peer, ...victims] = await startActors(ctx, ['peer', 'victim-kill', 'victim-term']);
    const port = ctx.port();
    await peer.listen(port, { allowHalfOpen: true });
    const kills = await ctx.matrix({ signal: ['SIGKILL', 'SIGTERM'] as const }, async ({ signal }) => {
      const victim = victims[signal === 'SIGKILL' ? 0 : 1];
      ctx.step(`${signal}: open the connections (victim as client, with and without unread data, and as server)`);
      const conns: Conn[] = [];
      for (const unread of [0, o.bytes]) for (const order of ['read-first', 'write-first'] as const) {
        const c = await victim.connect(port);
        const a = await peer.accepted(c.localPort, port);
        if (unread) await peer.syswrite(a.conn, unread);
        conns.push({ role: 'client', unread, order, conn: a.conn, killed: { name: 'killed', localPort: c.localPort, peerPort: port }, peer: { name: 'peer', localPort: port, peerPort: c.localPort } });
      }
      const vPort = ctx.port();
      await victim.listen(vPort);
      const p = await peer.connect(vPort, { allowHalfOpen: true });
      await victim.accepted(p.localPort, vPort); // the victim's own socket, not one still in its listen queue (those get an RST)
      conns.push({ role: 'server', unread: 0, order: 'read-first', conn: p.conn, killed: { name: 'killed', localPort: vPort, peerPort: p.localPort }, peer: { name: 'peer', localPort: p.localPort, peerPort: vPort } });
      const before = await ctx.waitSs(`${o.bytes} unread bytes in the victim's receive queues`, (xs) => conns.every((k) => endIn(xs, k.killed)?.recvQ === k.unread), { label: `${signal}: before kill`, processes: true });
      ctx.step(`${signal} the victim (pid ${victim.pid})`);
      const { value: exit, delta } = await ctx.counters(`${signal} of the victim`, async () => {
        const exit = await victim.kill(signal);
        await ctx.waitSs('every peer end in CLOSE-WAIT or gone', (xs) => conns.every((k) => ['CLOSE-WAIT', 'absent'].includes(stateIn(xs, k.peer))));
        return exit;
      });
      const after = await ctx.snapshot(`${signal}: after kill`, { processes: true });
      const fate = conns.map((k) => ({ role: k.role, unread: k.unread, order: k.order, before: stateIn(before, k.killed), killedAfter: stateIn(after, k.killed), peerAfter: stateIn(after, k.peer), peerOwned: !!endIn(after, k.peer)?.users?.some((u) => u.pid === peer.pid), ops: [] as { call: string; result: string; rsts: number; peerAfter: string }[] }));
      ctx.step(`${signal}: the peer reads and writes on each connection, in its order`);
      for (let i = 0; i < 4; i++) for (const [j, k] of conns.entries()) {
        const call = ORDERS[k.order][i];
        const { value: r, delta: d } = await ctx.counters(`${signal} ${k.role} unread ${k.unread} ${k.order}: ${call} #${i + 1}`, () => (call === 'read' ? peer.sysread(k.conn) : peer.syswrite(k.conn, 100)));
        const gone = call === 'write' ? await ctx.waitSs('the peer end to be reset', (xs) => stateIn(xs, k.peer) === 'absent', { timeoutMs: 500 }).then(() => true, (e) => { if (e instanceof WaitTimeout) return false; throw e; }) : false;
        fate[j].ops.push({ call, result: formatResult(r), rsts: d['Tcp.OutRsts'] ?? 0, peerAfter: gone ? 'absent' : stateIn(await readSockets(ctx.host), k.peer) });
      }
      return { exit: exit.signal ?? `code ${exit.code}`, killRsts: delta['Tcp.OutRsts'] ?? 0, conns: fate };
    });
    checkActors([peer]);
    return { kills };
  },
  judge: ({ kills }) => {
    const conns = kills.flatMap((c) => (c.evidence?.conns ?? []).map((k) => ({ ...k, label: `${c.signal} ${k.role}${k.unread ? `, ${k.unread} B unread` : ''}, ${k.order}` })));
    const clean = conns.filter((k) => !k.unread);
    const firstWrite = (k: (typeof conns)[number]) => k.ops.findIndex((op) => op.call === 'write');
    const afterRst = (call: string) => clean.flatMap((k) => k.ops.slice(firstWrite(k) + 1).filter((op) => op.call === call).map((op) => ({ k, op })));
    const ends = (k: (typeof conns)[number]) => check(`${k.label}: killed end / peer end`, `${k.killedAfter} / ${k.peerAfter}`, 'FIN-WAIT-2 / CLOSE-WAIT', k.killedAfter === 'FIN-WAIT-2' && k.peerAfter === 'CLOSE-WAIT');
    const ran = need('both kills ran with every connection ESTABLISHED before', kills.length === 2 && kills.every((c) => c.evidence) && conns.every((k) => k.before === 'ESTAB'), `connections before the kill: ${conns.map((k) => k.before).join(', ') || 'none'}`);
    const rstDrawn = need('the first write drew an RST on every clean connection', clean.length > 0 && clean.every((k) => (k.ops[firstWrite(k)]?.rsts ?? 0) >= 1), 'not every first write was answered with an RST');
    return {
      'kill-sends-fin': all(ran, clean.map(ends), conns.filter((k) => k.unread).map((k) => caveat(ends(k)))),
      'peer-close-wait': all(ran, clean.map((k) => check(`${k.label}: peer end`, `${k.peerAfter}${k.peerOwned ? ', held by the peer' : ''}`, 'CLOSE-WAIT, held by the peer', k.peerAfter === 'CLOSE-WAIT' && k.peerOwned))),
      'peer-write-draws-rst': all(ran, clean.map((k) => ((op) => check(`${k.label}: first write`, op && `${op.result}, ${op.rsts} RST, peer end ${op.peerAfter}`, '100 bytes, an RST, peer end gone', op?.result === '100 bytes' && op.rsts >= 1 && op.peerAfter === 'absent'))(k.ops[firstWrite(k)]))),
      'read-after-rst-econnreset': every(ran, rstDrawn, need('reads after the RST', afterRst('read').length > 0, 'none recorded'), afterRst('read').map(({ k, op }) => is(`${k.label}: read after the RST`, op.result, '-1 ECONNRESET'))),
      'write-after-rst-epipe': every(ran, rstDrawn, need('writes after the RST', afterRst('write').length > 0, 'none recorded'), afterRst('write').map(({ k, op }) => is(`${k.label}: write after the RST`, op.result, '-1 EPIPE'))),
    };
  },
  tables: ({ kills }) => [{
    title: "After the kill: both ends' states, then what each of the peer's calls returned",
    columns: ['case', 'killed end', 'peer end', 'call 1', 'call 2', 'call 3', 'call 4'],
    rows: kills.flatMap((c) => (c.evidence?.conns ?? []).map((k) => [`${c.signal} (${c.evidence!.exit}) ${k.role}, ${k.unread} B unread, ${k.order}`, k.killedAfter, k.peerAfter, ...k.ops.map((op) => `${op.call} ${op.result} → ${op.peerAfter}${op.rsts ? ` (RST ${op.rsts})` : ''}`)])),
    note: `RSTs counted around each kill: ${kills.map((c) => `${c.signal} ${c.evidence?.killRsts ?? '?'}`).join(', ')}.`,
  }],
});
