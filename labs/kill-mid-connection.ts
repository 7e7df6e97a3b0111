// Tests: what the kernel does for the connections of a process killed mid-connection (FIN, or RST when data
// was unread), the surviving peer's CLOSE-WAIT, and what its read(2)/write(2) return afterwards, in order.
import type { LabContext } from '../harness/context.ts';
import { checkActors, startActors, type Actor } from '../harness/actors.ts';
import { waitSs, withCounters } from '../harness/actors-observe.ts';
import type { SyscallResult } from '../harness/actors-protocol.ts';
import { filterSockets } from '../harness/census.ts';
import { formatDelta, type Counters } from '../harness/counters.ts';
import { defineLab } from '../harness/lab.ts';
import type { SockRecord } from '../harness/ss.ts';
import { readSockets } from '../harness/host.ts';
import { until } from '../harness/wait.ts';

const A003 = '003_81081321638cfb34.txt';

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
  /** the peer's socket after the call (state, or 'gone') */
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
  ops: OpRecord[];
}

const label = (k: Case) => `${k.signal} ${k.role}${k.role === 'client' ? `, ${k.unread ? `${k.unread} B unread` : 'nothing unread'}` : ''}, peer ${k.order}`;
const fmt = (r: SyscallResult) => (r.ret < 0 ? `-1 ${r.errno}` : r.ret === 0 ? '0 (EOF)' : `${r.ret}`);
const side = (xs: SockRecord[], local: number, peer: number) => filterSockets(xs, { localPort: local, peerPort: peer });
const stateOf = (xs: SockRecord[], local: number, peer: number) => side(xs, local, peer).map((s) => s.state).join(',') || 'gone';

/** Wait (bounded) for the peer's socket to be gone after a write; returns its state at the end. */
async function settleAfterWrite(ctx: LabContext, k: Case): Promise<string> {
  try {
    return await until(
      async () => {
        const st = stateOf(await readSockets(ctx.host), k.peerPort, k.victimPort);
        return st === 'gone' ? { done: true, value: st } : { done: false, last: st };
      },
      { what: 'the peer socket to be reset', timeoutMs: 500, signal: ctx.signal },
    );
  } catch {
    return stateOf(await readSockets(ctx.host), k.peerPort, k.victimPort);
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
      cases.push({ signal, role: 'client', unread, order, victimPort: c.localPort, peerPort: peerListen, peerConn: a.conn, victimBefore: '', victimAfter: '', peerAfter: '', victimOwnersAfter: 0, ops: [] });
    }
  }
  await victim.listen(victimListen);
  const p = await peer.connect(victimListen, { allowHalfOpen: true });
  cases.push({ signal, role: 'server', unread: 0, order: 'read-first', victimPort: victimListen, peerPort: p.localPort, peerConn: p.conn, victimBefore: '', victimAfter: '', peerAfter: '', victimOwnersAfter: 0, ops: [] });
  await waitSs(ctx, `${bytes} unread bytes in the ${signal} victim's receive queues`, (xs) =>
    cases.filter((k) => k.unread).every((k) => side(xs, k.victimPort, k.peerPort)[0]?.recvQ === k.unread),
  );
  return cases;
}

async function killAndProbe(ctx: LabContext, signal: Signal, victim: Actor, peer: Actor, cases: Case[], victimListen: number): Promise<{ delta: Counters; refused: string }> {
  ctx.step(`${signal} the victim process (pid ${victim.pid}) while its ${cases.length} connections are ESTABLISHED`);
  const before = await ctx.snapshot(`${signal}: before kill`, { processes: true, focus: { port: cases[0].peerPort } });
  for (const k of cases) k.victimBefore = stateOf(before.sockets, k.victimPort, k.peerPort);
  const { delta } = await withCounters(ctx, `${signal} of the victim`, async () => {
    await victim.kill(signal);
    await waitSs(ctx, "every peer socket to be in CLOSE-WAIT or gone", (xs) =>
      cases.every((k) => ['CLOSE-WAIT', 'gone'].includes(stateOf(xs, k.peerPort, k.victimPort))),
    );
  });
  const after = await ctx.snapshot(`${signal}: after kill`, { processes: true });
  for (const k of cases) {
    k.victimAfter = stateOf(after.sockets, k.victimPort, k.peerPort);
    k.peerAfter = stateOf(after.sockets, k.peerPort, k.victimPort);
    k.victimOwnersAfter = side(after.sockets, k.victimPort, k.peerPort).reduce((n, s) => n + (s.users?.length ?? 0), 0);
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
      const peerAfter = call === 'write' ? await settleAfterWrite(ctx, k) : stateOf(await readSockets(ctx.host), k.peerPort, k.victimPort);
      k.ops.push({ call, result, peerAfter, delta: d });
      ctx.event('syscall', `${label(k)}: peer ${call === 'read' ? 'recv' : 'send'}(2) -> ${fmt(result)}; peer socket now ${peerAfter}`, { signal, role: k.role, unread: k.unread, order: k.order, step: i + 1, call, ...result, peerAfter, outRsts: d['Tcp.OutRsts'] ?? 0 });
    }
  }
  await ctx.snapshot(`${signal}: after the peer's calls`, { processes: true });
  return { delta, refused };
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
    const kills: Record<Signal, { delta: Counters; refused: string }> = {} as never;
    for (const [i, sig] of SIGNALS.entries()) kills[sig] = await killAndProbe(ctx, sig, victims[sig], peer, cases[sig], port + 1 + i);
    checkActors([peer]);

    const all = [...cases.SIGKILL, ...cases.SIGTERM];
    ctx.table({
      title: 'After the kill: the states of both ends, then what each of the peer\'s calls returned',
      columns: ['case', 'killed end', 'peer end', 'call 1', 'call 2', 'call 3', 'call 4'],
      rows: all.map((k) => [
        label(k), `${k.victimAfter}${k.victimAfter !== 'gone' ? (k.victimOwnersAfter ? ' (owned)' : ' (orphan)') : ''}`, k.peerAfter,
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
    {
      const finClean = clean.filter((k) => k.victimAfter === 'FIN-WAIT-2' && k.peerAfter === 'CLOSE-WAIT');
      const rstUnread = unread.filter((k) => k.victimAfter === 'gone' && k.peerAfter === 'gone');
      const d = kills.SIGKILL.delta;
      const sameForTerm = cases.SIGTERM.every((k, i) => k.victimAfter === cases.SIGKILL[i]?.victimAfter && k.peerAfter === cases.SIGKILL[i]?.peerAfter);
      const obs =
        `${finClean.length}/${clean.length} connections with nothing unread (SIGKILL and SIGTERM, client and server role) ended with the killed end in FIN-WAIT-2 ` +
        `(orphaned: ${clean.filter((k) => k.victimOwnersAfter === 0).length}/${clean.length}, no process holds it) and the peer in CLOSE-WAIT: a FIN was sent. ` +
        `${rstUnread.length}/${unread.length} connections with ${bytes} unread bytes vanished on both ends at once: the kernel sent RST instead ` +
        `(SIGKILL counters: ${formatDelta(d)}). ${sameForTerm ? 'SIGTERM (Node has no handler, so the default action ends the process) left exactly the same states as SIGKILL.' : `SIGTERM differed from SIGKILL: ${cases.SIGTERM.map((k, i) => `${label(k)}: ${k.victimAfter} vs ${cases.SIGKILL[i]?.victimAfter}`).join('; ')}.`}`;
      const verdict = finClean.length === clean.length ? (unread.length && rstUnread.length === unread.length ? 'partly' : rstUnread.length === 0 ? 'confirmed' : 'partly') : finClean.length ? 'partly' : 'refuted';
      ctx.verdict('kill-sends-fin', verdict, obs);
    }
    {
      const cw = clean.filter((k) => k.peerAfter === 'CLOSE-WAIT');
      ctx.verdict('peer-close-wait', cw.length === clean.length ? 'confirmed' : cw.length ? 'partly' : 'refuted',
        `${cw.length}/${clean.length} peer sockets were in CLOSE-WAIT after the kill when nothing was unread (held by the peer process per ss -p); with unread data the peer's socket was ${[...new Set(unread.map((k) => k.peerAfter))].join(',')} (reset, no CLOSE-WAIT).`);
    }
    // the first write on a connection that was in CLOSE-WAIT
    const firstWrites = clean.map((k) => ({ k, i: k.ops.findIndex((o) => o.call === 'write') })).map(({ k, i }) => ({ k, o: k.ops[i], i }));
    {
      const ok = firstWrites.filter(({ o }) => o.result.ret === 100 && o.delta['Tcp.OutRsts'] >= 1 && o.peerAfter === 'gone');
      const reads = clean.filter((k) => k.order === 'read-first').map((k) => fmt(k.ops[0].result));
      ctx.verdict('peer-write-draws-rst', ok.length === firstWrites.length ? 'confirmed' : ok.length ? 'partly' : 'refuted',
        `${ok.length}/${firstWrites.length} first writes in CLOSE-WAIT returned 100 (no error), drew an RST from the killed side's kernel (Tcp.OutRsts +1) and left the peer's socket gone. (A read before that write returned ${[...new Set(reads)].join(', ')}: plain EOF, not an error.)`);
    }
    // after the RST that the peer's own write drew (the article's sequence), and the kill-with-unread contrast
    const afterRst = (ks: Case[]) => ks.map((k) => k.ops.slice(k.unread ? 0 : k.ops.findIndex((o) => o.call === 'write') + 1));
    const uniq = (os: OpRecord[]) => [...new Set(os.map((o) => fmt(o.result)))].join(', ') || 'none';
    {
      const reads = afterRst(clean).flatMap((os) => os.filter((o) => o.call === 'read'));
      const reset = reads.filter((o) => o.result.errno === 'ECONNRESET');
      const firstUnread = unread.map((k) => k.ops[0]);
      const contrast = `With unread data the kill itself sent RST while the peer was ESTABLISHED, and there the first call got ECONNRESET whichever it was (${uniq(firstUnread)}).`;
      ctx.verdict('read-after-rst-econnreset', reads.length === 0 ? 'inconclusive' : reset.length === reads.length ? 'confirmed' : reset.length ? 'partly' : 'refuted',
        `${reset.length}/${reads.length} reads after the RST returned ECONNRESET; they returned ${uniq(reads)}: the peer had already received the FIN, so recv(2) reports end of file, and the RST that hit a CLOSE-WAIT socket is stored as EPIPE, not ECONNRESET (tcp_reset() in net/ipv4/tcp_input.c). ${contrast}`);
    }
    {
      const writes = afterRst(clean).flatMap((os) => os.filter((o) => o.call === 'write'));
      const epipe = writes.filter((o) => o.result.errno === 'EPIPE');
      const firstUnreadWrite = unread.filter((k) => k.ops[0].call === 'write').map((k) => k.ops[0]);
      ctx.verdict('write-after-rst-epipe', writes.length === 0 ? 'inconclusive' : epipe.length === writes.length ? 'confirmed' : epipe.length ? 'partly' : 'refuted',
        `${epipe.length}/${writes.length} writes after the RST failed with EPIPE (send(2) with MSG_NOSIGNAL; without it the process also gets SIGPIPE). Only the first write of a connection reset while ESTABLISHED (kill with unread data) got ${uniq(firstUnreadWrite)} instead; later ones got EPIPE too.`);
    }
  },
});
