// Tests: what the kernel does for the connections of a process killed mid-connection (FIN, or RST when data
// was unread), the surviving peer's CLOSE-WAIT, and what its read(2)/write(2) return afterwards, in order.
import type { LabContext } from '../harness/lab/context.ts';
import { type ActorExit, checkActors, startActors, type Actor } from '../harness/actors/actors.ts';
import { withCounters } from '../harness/lab/counters.ts';
import { formatResult as fmt, type SyscallResult } from '../harness/actors/protocol.ts';
import { A003 } from '../harness/lab/articles.ts';
import { formatDelta, type Counters } from '../harness/kernel/counters.ts';
import { endIn, stateIn, type End } from '../harness/lab/endpoints.ts';
import { WaitTimeout } from '../harness/errors.ts';
import { readSockets } from '../harness/evidence/read.ts';
import { defineLab } from '../harness/lab/define.ts';

type Op = 'read' | 'write';
const ORDERS: Record<'read-first' | 'write-first', Op[]> = {
  'read-first': ['read', 'write', 'read', 'write'],
  'write-first': ['write', 'write', 'read', 'write'],
};
type Order = keyof typeof ORDERS;
const SIGNALS = ['SIGKILL', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

interface OpRecord {
  call: Op;
  result: SyscallResult;
  /** the peer's socket after the call (its state, or 'absent') */
  peerAfter: string;
  delta: Counters;
}

interface Case {
  signal: Signal;
  /** the killed process's role on this connection */
  role: 'client' | 'server';
  unread: number;
  order: Order;
  victimPort: number;
  peerPort: number;
  peerConn: number;
  victimBefore: string;
  victimAfter: string;
  peerAfter: string;
  /** who holds the killed side's socket after the kill (ss -p); empty = orphan */
  victimOwnersAfter: number;
  /** the peer's socket after the kill is held by the (live) peer process, per ss -p */
  peerOwnedAfter: boolean;
  ops: OpRecord[];
}

const label = (k: Case) => `${k.signal} ${k.role}${k.role === 'client' ? `, ${k.unread ? `${k.unread} B unread` : 'nothing unread'}` : ''}, peer ${k.order}`;
const victimEnd = (k: Case): End => ({ name: 'killed', localPort: k.victimPort, peerPort: k.peerPort });
const peerEnd = (k: Case): End => ({ name: 'peer', localPort: k.peerPort, peerPort: k.victimPort });

/** Wait (bounded) for the peer's socket to be gone after a write; returns its state at the end. */
async function settleAfterWrite(ctx: LabContext, k: Case): Promise<string> {
  try {
    await ctx.waitSs('the peer socket to be reset', (xs) => stateIn(xs, peerEnd(k)) === 'absent', { timeoutMs: 500 });
    return 'absent';
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    return stateIn(await readSockets(ctx.host), peerEnd(k)); // still there after 500 ms: say what it is
  }
}

/** One victim process: client connections to the peer (with/without unread data) and a listener the peer uses. */
async function prepare(ctx: LabContext, signal: Signal, victim: Actor, peer: Actor, peerListen: number, victimListen: number, bytes: number): Promise<Case[]> {
  const cases: Case[] = [];
  for (const unread of [0, bytes]) {
    for (const order of Object.keys(ORDERS) as Order[]) {
      const c = await victim.connect(peerListen);
      const a = await peer.accepted(c.localPort);
      if (unread) {
        const w = await peer.syswrite(a.conn, unread);
        if (w.ret !== unread) throw new Error(`peer send(2) of ${unread} bytes returned ${fmt(w)}`);
      }
      cases.push({ signal, role: 'client', unread, order, victimPort: c.localPort, peerPort: peerListen, peerConn: a.conn, victimBefore: '', victimAfter: '', peerAfter: '', victimOwnersAfter: 0, peerOwnedAfter: false, ops: [] });
    }
  }
  await victim.listen(victimListen);
  const p = await peer.connect(victimListen, { allowHalfOpen: true });
  cases.push({ signal, role: 'server', unread: 0, order: 'read-first', victimPort: victimListen, peerPort: p.localPort, peerConn: p.conn, victimBefore: '', victimAfter: '', peerAfter: '', victimOwnersAfter: 0, peerOwnedAfter: false, ops: [] });
  await ctx.waitSs(`${bytes} unread bytes in the ${signal} victim's receive queues`, (xs) =>
    cases.filter((k) => k.unread).every((k) => endIn(xs, victimEnd(k))?.recvQ === k.unread),
  );
  return cases;
}

async function killAndProbe(ctx: LabContext, signal: Signal, victim: Actor, peer: Actor, cases: Case[], victimListen: number): Promise<{ delta: Counters; refused: string; exit: ActorExit }> {
  ctx.step(`${signal} the victim process (pid ${victim.pid}) while its ${cases.length} connections are ESTABLISHED`);
  const before = await ctx.snapshot(`${signal}: before kill`, { processes: true, focus: { port: cases[0].peerPort } });
  for (const k of cases) k.victimBefore = stateIn(before, victimEnd(k));
  const { value: exit, delta } = await withCounters(ctx, `${signal} of the victim`, async () => {
    const exit = await victim.kill(signal);
    await ctx.waitSs('every peer socket to be in CLOSE-WAIT or gone', (xs) =>
      cases.every((k) => ['CLOSE-WAIT', 'absent'].includes(stateIn(xs, peerEnd(k)))),
    );
    return exit;
  });
  const after = await ctx.snapshot(`${signal}: after kill`, { processes: true });
  for (const k of cases) {
    k.victimAfter = stateIn(after, victimEnd(k));
    k.peerAfter = stateIn(after, peerEnd(k));
    k.victimOwnersAfter = endIn(after, victimEnd(k))?.users?.length ?? 0;
    k.peerOwnedAfter = !!endIn(after, peerEnd(k))?.users?.some((u) => u.pid === peer.pid);
  }
  let refused = 'connected';
  try {
    const extra = await peer.connect(victimListen);
    await peer.request({ op: 'destroy', conn: extra.conn });
  } catch (e) {
    refused = (e as { code?: string }).code ?? String(e);
  }
  ctx.event('syscall', `peer connect(2) to the killed server's port ${victimListen} -> ${refused}`, { signal, call: 'connect', errno: refused });

  ctx.step(`${signal}: the peer reads and writes on each connection, in the order of its case`);
  for (let i = 0; i < 4; i++) {
    for (const k of cases) {
      const call = ORDERS[k.order][i];
      const { value: result, delta: d } = await withCounters(ctx, `${label(k)}: ${call} #${i + 1}`, async () =>
        call === 'read' ? peer.sysread(k.peerConn) : peer.syswrite(k.peerConn, 100),
      );
      const peerAfter = call === 'write' ? await settleAfterWrite(ctx, k) : stateIn(await readSockets(ctx.host), peerEnd(k));
      k.ops.push({ call, result, peerAfter, delta: d });
      ctx.event('syscall', `${label(k)}: peer ${call === 'read' ? 'recv' : 'send'}(2) -> ${fmt(result)}; peer socket now ${peerAfter}`, { signal, role: k.role, unread: k.unread, order: k.order, step: i + 1, call, ...result, peerAfter, outRsts: d['Tcp.OutRsts'] ?? 0 });
    }
  }
  await ctx.snapshot(`${signal}: after the peer's calls`, { processes: true });
  return { delta, refused, exit };
}

export default defineLab({
  name: 'kill-mid-connection',
  title: 'Kill a process mid-connection: FIN or RST, CLOSE-WAIT, then ECONNRESET and EPIPE',
  description:
    'A peer process (allowHalfOpen and not reading, like a C server that has not called read yet) holds ' +
    'connections with a victim process: the victim is the client on four of them (two with bytes left unread ' +
    'in its receive buffer, two without) and the server on one. The victim is killed (SIGKILL, then a second ' +
    'victim with SIGTERM). ss -tanop before and after shows which process holds each end and its state; the ' +
    "namespace's RST/abort counters show what was sent. Then the peer calls recv(2)/send(2) on each " +
    'connection, read first or write first, and every return value (bytes, EOF, ECONNRESET, EPIPE) is recorded.',
  claims: [
    { id: 'kill-sends-fin', source: A003, statement: "When a process is killed, the kernel closes its connections by sending FIN; the killed side goes through FIN-WAIT-1 to FIN-WAIT-2 once the peer ACKs." },
    { id: 'peer-close-wait', source: A003, statement: 'The peer receives the FIN, ACKs it and stays in CLOSE-WAIT while its process is still alive and has not closed.' },
    { id: 'peer-write-draws-rst', source: A003, statement: "The peer's write on that connection succeeds without an error, the killed side answers with RST and the peer's socket is then closed." },
    { id: 'read-after-rst-econnreset', source: A003, statement: 'After its write has drawn the RST, a read by the peer fails with "connection reset" (ECONNRESET).' },
    { id: 'write-after-rst-epipe', source: A003, statement: 'After its first write has drawn the RST, a further write by the peer fails with "broken pipe" (EPIPE).' },
  ],
  options: {
    port: { type: 'number', min: 1024, max: 65000, default: 9400, describe: "the peer's listening port; the victims listen on the next two" },
    bytes: { type: 'number', min: 1, max: 60000, default: 1000, describe: 'bytes left unread in the victim\'s receive buffer in the "unread" cases' },
  },
  async run(ctx) {
    const port = ctx.options.port as number;
    const bytes = ctx.options.bytes as number;
    ctx.step('start three actor processes: the peer, a victim for SIGKILL and a victim for SIGTERM');
    const [peer, vKill, vTerm] = await startActors(ctx, ['peer', 'victim-kill', 'victim-term']);
    await peer.listen(port, { allowHalfOpen: true });
    ctx.step('open the connections: victim as client (with and without unread data) and as server');
    const victims = { SIGKILL: vKill, SIGTERM: vTerm };
    const cases: Record<Signal, Case[]> = { SIGKILL: [], SIGTERM: [] };
    for (const [i, sig] of SIGNALS.entries()) cases[sig] = await prepare(ctx, sig, victims[sig], peer, port, port + 1 + i, bytes);
    const kills = {} as Record<Signal, { delta: Counters; refused: string; exit: ActorExit }>;
    for (const [i, sig] of SIGNALS.entries()) kills[sig] = await killAndProbe(ctx, sig, victims[sig], peer, cases[sig], port + 1 + i);
    checkActors([peer]);

    const all = [...cases.SIGKILL, ...cases.SIGTERM];
    ctx.table({
      title: 'After the kill: the states of both ends, then what each of the peer\'s calls returned',
      columns: ['case', 'killed end', 'peer end', 'call 1', 'call 2', 'call 3', 'call 4'],
      rows: all.map((k) => [
        label(k), `${k.victimAfter}${k.victimAfter !== 'absent' ? (k.victimOwnersAfter ? ' (owned)' : ' (orphan)') : ''}`, k.peerAfter,
        ...k.ops.map((o) => `${o.call} ${fmt(o.result)} → ${o.peerAfter}${o.delta['Tcp.OutRsts'] ? ` (RST ${o.delta['Tcp.OutRsts']})` : ''}`),
      ]),
      note: `Counters around each kill: SIGKILL ${formatDelta(kills.SIGKILL.delta)}; SIGTERM ${formatDelta(kills.SIGTERM.delta)}. A new connect(2) to the killed server's port: ${kills.SIGKILL.refused} / ${kills.SIGTERM.refused}. "(RST n)" = Tcp.OutRsts rose by n during that call.`,
    });

    // ---- verdicts -------------------------------------------------------------------------------
    const clean = all.filter((k) => k.unread === 0);
    const unread = all.filter((k) => k.unread > 0);
    const seen = all.every((k) => k.victimBefore === 'ESTAB');
    if (!seen) {
      for (const id of ['kill-sends-fin', 'peer-close-wait', 'peer-write-draws-rst', 'read-after-rst-econnreset', 'write-after-rst-epipe'])
        ctx.verdict(id, 'inconclusive', `not every connection was ESTABLISHED before the kill: ${all.map((k) => `${label(k)}: ${k.victimBefore}`).join('; ')}`);
      return;
    }
    const distinct = (xs: string[]) => [...new Set(xs.map((x) => (x === 'absent' ? 'gone' : x)))].join(', ') || 'none';
    const how = (e: ActorExit) => (e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`);
    {
      const finClean = clean.filter((k) => k.victimAfter === 'FIN-WAIT-2' && k.peerAfter === 'CLOSE-WAIT');
      const orphans = finClean.filter((k) => k.victimOwnersAfter === 0).length;
      const rstUnread = unread.filter((k) => k.victimAfter === 'absent' && k.peerAfter === 'absent');
      const rstCounted = SIGNALS.filter((sig) => (kills[sig].delta['Tcp.OutRsts'] ?? 0) >= 1);
      const sameForTerm = cases.SIGTERM.every((k, i) => k.victimAfter === cases.SIGKILL[i]?.victimAfter && k.peerAfter === cases.SIGKILL[i]?.peerAfter);
      const obs =
        `${finClean.length}/${clean.length} connections with nothing unread (SIGKILL and SIGTERM, client and server role) ended with the killed end in FIN-WAIT-2 ` +
        `and the peer in CLOSE-WAIT${finClean.length ? ` (so a FIN was sent; ${orphans}/${finClean.length} of those FIN-WAIT-2 sockets held by no process per ss -p)` : ''}; ` +
        `the killed ends were ${distinct(clean.map((k) => k.victimAfter))}, the peer ends ${distinct(clean.map((k) => k.peerAfter))}. ` +
        `${rstUnread.length}/${unread.length} connections with ${bytes} unread bytes vanished on both ends at once` +
        `${rstUnread.length ? (rstCounted.length === SIGNALS.length ? ': the kernel sent RST instead' : ', though not every kill counted an RST') : ` (their ends were ${distinct(unread.map((k) => `${k.victimAfter}/${k.peerAfter}`))})`} ` +
        `(counters around the kill: ${SIGNALS.map((sig) => `${sig} ${formatDelta(kills[sig].delta)}`).join('; ')}). ` +
        `The victims ${SIGNALS.map((sig) => `${sig}: ${how(kills[sig].exit)}`).join(', ')}; ` +
        `${sameForTerm ? 'SIGTERM left exactly the same states as SIGKILL.' : `SIGTERM differed from SIGKILL: ${cases.SIGTERM.map((k, i) => `${label(k)}: ${k.victimAfter} vs ${cases.SIGKILL[i]?.victimAfter}`).join('; ')}.`}`;
      const verdict = finClean.length === clean.length ? (unread.length && rstUnread.length === unread.length ? 'partly' : rstUnread.length === 0 ? 'confirmed' : 'partly') : finClean.length ? 'partly' : 'refuted';
      ctx.verdict('kill-sends-fin', verdict, obs);
    }
    {
      // the claim: CLOSE-WAIT while the peer process is alive and has not closed, so it must still hold the socket
      const cw = clean.filter((k) => k.peerAfter === 'CLOSE-WAIT');
      const held = cw.filter((k) => k.peerOwnedAfter);
      ctx.verdict('peer-close-wait', held.length === clean.length ? 'confirmed' : held.length ? 'partly' : 'refuted',
        `${cw.length}/${clean.length} peer sockets were in CLOSE-WAIT after the kill when nothing was unread, ${held.length} of them held by the live peer process (pid ${peer.pid}) per ss -p; ` +
        `with unread data the peer's socket was ${distinct(unread.map((k) => k.peerAfter))}${unread.every((k) => k.peerAfter === 'absent') ? ' (reset, no CLOSE-WAIT)' : ''}.`);
    }
    // the first write on a connection that was in CLOSE-WAIT
    const firstWrites = clean.map((k) => ({ k, i: k.ops.findIndex((o) => o.call === 'write') })).map(({ k, i }) => ({ k, o: k.ops[i], i }));
    {
      const ok = firstWrites.filter(({ o }) => o.result.ret === 100 && o.delta['Tcp.OutRsts'] >= 1 && o.peerAfter === 'absent');
      const reads = clean.filter((k) => k.order === 'read-first').map((k) => k.ops[0].result);
      const readText = distinct(reads.map(fmt));
      ctx.verdict('peer-write-draws-rst', ok.length === firstWrites.length ? 'confirmed' : ok.length ? 'partly' : 'refuted',
        `${ok.length}/${firstWrites.length} first writes in CLOSE-WAIT returned 100 (no error), drew an RST from the killed side's kernel (Tcp.OutRsts rose during the call) and left the peer's socket gone ` +
        `(returned: ${distinct(firstWrites.map(({ o }) => fmt(o.result)))}; the peer's socket after: ${distinct(firstWrites.map(({ o }) => o.peerAfter))}). ` +
        `(A read before that write returned ${readText}${reads.length && reads.every((r) => r.ret === 0) ? ': plain EOF, not an error' : ''}.)`);
    }
    // after the RST that the peer's own write drew (the article's sequence), and the kill-with-unread contrast
    const afterRst = (ks: Case[]) => ks.map((k) => k.ops.slice(k.unread ? 0 : k.ops.findIndex((o) => o.call === 'write') + 1));
    const uniq = (os: OpRecord[]) => distinct(os.map((o) => fmt(o.result)));
    const firstUnread = unread.map((k) => k.ops[0]);
    const unreadReset = firstUnread.length > 0 && firstUnread.every((o) => o.result.errno === 'ECONNRESET');
    {
      const reads = afterRst(clean).flatMap((os) => os.filter((o) => o.call === 'read'));
      const reset = reads.filter((o) => o.result.errno === 'ECONNRESET');
      const eof = reads.length > 0 && reads.every((o) => o.result.ret === 0);
      const contrast = unreadReset
        ? `With unread data the kill itself reset the connection while the peer was ESTABLISHED, and there the first call got ECONNRESET whichever it was (${uniq(firstUnread)}).`
        : `With unread data the peer's first call returned ${uniq(firstUnread)}.`;
      ctx.verdict('read-after-rst-econnreset', reads.length === 0 ? 'inconclusive' : reset.length === reads.length ? 'confirmed' : reset.length ? 'partly' : 'refuted',
        `${reset.length}/${reads.length} reads after the RST returned ECONNRESET; they returned ${uniq(reads)}` +
        `${eof ? ': the peer had already received the FIN, so recv(2) reports end of file, and an RST that hits a CLOSE-WAIT socket is stored as EPIPE, not ECONNRESET (tcp_reset() in net/ipv4/tcp_input.c)' : ''}. ${contrast}`);
    }
    {
      const writes = afterRst(clean).flatMap((os) => os.filter((o) => o.call === 'write'));
      const epipe = writes.filter((o) => o.result.errno === 'EPIPE');
      const unreadWrites = unread.map((k) => k.ops.filter((o) => o.call === 'write'));
      const firstUnreadWrite = unread.filter((k) => k.ops[0].call === 'write').map((k) => k.ops[0]);
      const laterUnreadWrites = unreadWrites.flatMap((os, i) => os.filter((o) => o !== unread[i].ops[0]));
      ctx.verdict('write-after-rst-epipe', writes.length === 0 ? 'inconclusive' : epipe.length === writes.length ? 'confirmed' : epipe.length ? 'partly' : 'refuted',
        `${epipe.length}/${writes.length} writes after the RST failed with EPIPE; they returned ${uniq(writes)} (send(2) with MSG_NOSIGNAL; without it the process also gets SIGPIPE). ` +
        `On the connections reset by the kill itself (unread data), a write as the first call returned ${uniq(firstUnreadWrite)} and the later writes ${uniq(laterUnreadWrites)}.`);
    }
  },
});
