// Tests: whether a send/recv timeout moves a connection to CLOSED (it does not: it is an application-level
// timer), and what does end a connection whose peer went silent: the retransmission timeout (TCP_USER_TIMEOUT
// or tcp_retries2) and keepalive, with the errno each produces and how long it took.
import type { LabContext } from '../harness/lab/context.ts';
import { checkActors, startActors, type Actor } from '../harness/actors/actors.ts';
import { withCounters } from '../harness/lab/counters.ts';
import { formatResult as fmt, type ActorEvent, type ConnInfo, type SyscallResult } from '../harness/actors/protocol.ts';
import { A002 } from '../harness/lab/articles.ts';
import { formatDelta } from '../harness/kernel/counters.ts';
import { endIn, endsOf, stateIn } from '../harness/lab/endpoints.ts';
import { WaitTimeout } from '../harness/errors.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { IPPROTO_TCP, TCP_USER_TIMEOUT } from '../harness/kernel/ffi.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SockRecord } from '../harness/evidence/ss.ts';
import { until } from '../harness/kernel/wait.ts';

interface AppCase {
  name: string;
  /** what the timeout returned */
  result: string;
  elapsedMs?: number;
  client: string;
  server: string;
  /** did the connection still carry data afterwards */
  stillWorks: string;
}

interface DeathCase {
  name: string;
  how: string;
  conn: ConnInfo;
  startedAt: number;
  error?: ActorEvent;
  tookMs?: number;
  timerSeen?: string;
  clientAfter?: string;
  serverAfter?: string;
}

/** Both ends of a connection, as ss shows them now. */
async function ends(ctx: LabContext, label: string, c: ConnInfo, port: number): Promise<{ client: string; server: string; sockets: SockRecord[] }> {
  const snap = await ctx.snapshot(label, { processes: true, focus: { port: c.localPort } });
  const e = endsOf(c.localPort, port);
  return { client: stateIn(snap, e.client), server: stateIn(snap, e.server), sockets: snap.sockets };
}

/** After an application-level timeout: the server sends a few bytes, can the client still read them? */
async function stillWorks(ctx: LabContext, server: Actor, client: Actor, c: ConnInfo, s: ConnInfo): Promise<string> {
  const w = await server.syswrite(s.conn, 10);
  try {
    const r = await until<SyscallResult>(
      async () => {
        const r = await client.sysread(c.conn, 10);
        return r.errno !== 'EAGAIN' ? { done: true, value: r } : { done: false, last: r };
      },
      { what: `the server's bytes at the client on :${c.localPort}`, timeoutMs: 500, signal: ctx.signal },
    );
    return `server send ${fmt(w)}, client recv ${fmt(r)}`;
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    return `server send ${fmt(w)}, client recv: nothing after 500 ms`;
  }
}

export default defineLab({
  name: 'timeout-not-closed',
  title: 'A send/recv timeout does not close a connection; retransmission and keepalive timeouts do',
  description:
    'Two actor processes. First the application-level timeouts: Node\'s socket.setTimeout, a blocking recv(2) ' +
    'with SO_RCVTIMEO and blocking send(2) calls with SO_SNDTIMEO against a peer that does not read; ss shows ' +
    'both ends afterwards and the connection is used again. Then the server goes silent (every segment it sends ' +
    'is dropped on arrival by an nftables rule inside the sandbox: loss on the wire) and three connections are left to the kernel: one with unacknowledged ' +
    'data and TCP_USER_TIMEOUT, one with unacknowledged data under a shortened net.ipv4.tcp_retries2, one idle ' +
    'with keepalive. The lab records the retransmit/keepalive timers ss shows, the errno each connection dies ' +
    'with, how long it took, and that the silent side never noticed.',
  claims: [
    { id: 'send-recv-timeout-closes', source: A002, statement: 'If a send or a recv on a connection times out, the connection goes straight to CLOSED.' },
    { id: 'kernel-timeout-closes', source: A002, statement: "Read as the kernel's own timeouts: when the peer stops answering, the retransmission or keepalive timeout takes the connection straight to CLOSED." },
  ],
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  options: {
    port: { type: 'number', min: 1024, max: 65000, default: 9500, describe: 'port the server actor listens on' },
    'app-timeout-ms': { type: 'number', min: 50, max: 5000, default: 300, describe: 'SO_RCVTIMEO / SO_SNDTIMEO / socket.setTimeout value' },
    'user-timeout-ms': { type: 'number', min: 200, max: 30000, default: 1000, describe: 'TCP_USER_TIMEOUT of the first silent connection' },
    retries2: { type: 'number', min: 1, max: 15, default: 2, describe: 'net.ipv4.tcp_retries2 inside the sandbox (the default 15 takes ~15 min)' },
    'keepalive-idle': { type: 'number', min: 1, max: 60, default: 1, describe: 'TCP_KEEPIDLE (s) of the idle connection: silence before the first probe' },
    'keepalive-interval': { type: 'number', min: 1, max: 60, default: 1, describe: 'TCP_KEEPINTVL (s) of the idle connection: time between probes' },
    'keepalive-count': { type: 'number', min: 1, max: 20, default: 2, describe: 'TCP_KEEPCNT of the idle connection: unanswered probes before it is dropped' },
  },
  async run(ctx) {
    const port = ctx.options.port as number;
    const appMs = ctx.options['app-timeout-ms'] as number;
    const userMs = ctx.options['user-timeout-ms'] as number;
    const retries2 = ctx.options.retries2 as number;
    const kIdle = ctx.options['keepalive-idle'] as number;
    const kIntvl = ctx.options['keepalive-interval'] as number;
    const kCnt = ctx.options['keepalive-count'] as number;

    ctx.step('start two actor processes: server (listens, reads nothing) and client');
    const [server, client] = await startActors(ctx, ['server', 'client']);
    await server.listen(port, { allowHalfOpen: true });
    const open = async (o: { read?: boolean } = {}) => {
      const c = await client.connect(port, o);
      return { c, s: await server.accepted(c.localPort) };
    };

    // ---- application-level timeouts ---------------------------------------------------------------
    const app: AppCase[] = [];
    ctx.step(`application timeouts: socket.setTimeout(${appMs}), recv(2) with SO_RCVTIMEO ${appMs} ms, send(2) with SO_SNDTIMEO ${appMs} ms`);
    const [a1, a2, a3] = [await open(), await open(), await open()];
    await client.request({ op: 'idleTimeout', conn: a1.c.conn, ms: appMs });
    const recvP = client.request<SyscallResult>({ op: 'blockingRecv', conn: a2.c.conn, timeoutMs: appMs }, appMs + 5000);
    const ev = await client.waitEvent('timeout', a1.c.conn, appMs + 2000);
    const recv = await recvP;
    const send = await client.request<{ sent: number; calls: number; last: SyscallResult }>({ op: 'blockingSend', conn: a3.c.conn, timeoutMs: appMs, maxBytes: 256 << 20 }, 30_000);
    // what ended each wait, as recorded: the actor's 'timeout' event, or the errno of the timed-out call
    for (const [name, c, s, result, returned, elapsed] of [
      ['Node socket.setTimeout (idle timer)', a1.c, a1.s, `'timeout' event after ${ev.atMs} ms of actor time`, `${ev.kind} event`, undefined],
      ['recv(2), SO_RCVTIMEO', a2.c, a2.s, fmt(recv), recv.errno ?? String(recv.ret), recv.elapsedMs],
      ['send(2), SO_SNDTIMEO, peer not reading', a3.c, a3.s, `${send.sent} bytes accepted in ${send.calls - 1} calls, then ${fmt(send.last)}`, send.last.errno ?? String(send.last.ret), send.last.elapsedMs],
    ] as const) {
      const e = await ends(ctx, `after ${name}`, c, port);
      const sendQ = endIn(e.sockets, endsOf(c.localPort, port).client)?.sendQ;
      const works = name.startsWith('send') ? `Send-Q ${sendQ} bytes still queued` : await stillWorks(ctx, server, client, c, s);
      app.push({ name, result, ...(elapsed !== undefined ? { elapsedMs: elapsed } : {}), client: e.client, server: e.server, stillWorks: works });
      ctx.event('timeout', `${name}: ${result}${elapsed !== undefined ? ` after ${elapsed} ms` : ''}; client end ${e.client}, server end ${e.server}; ${works}`, { name, clientPort: c.localPort, returned, elapsedMs: elapsed, client: e.client, server: e.server });
    }
    for (const x of [a1, a2, a3]) await client.request({ op: 'reset', conn: x.c.conn }); // RST: nothing left behind to retransmit later
    await ctx.waitSs('the application-timeout connections to be gone', (xs) => [a1, a2, a3].every((x) => stateIn(xs, endsOf(x.c.localPort, port).server) === 'absent'));
    ctx.table({
      title: 'Application-level timeouts',
      columns: ['timeout', 'what the call returned', 'took (ms)', 'client end after', 'server end after', 'connection afterwards'],
      rows: app.map((a) => [a.name, a.result, a.elapsedMs === undefined ? '' : String(a.elapsedMs), a.client, a.server, a.stillWorks]),
    });

    // ---- the peer goes silent ---------------------------------------------------------------------
    ctx.step(`kernel timeouts: tcp_retries2 = ${retries2}, then the server goes silent`);
    await ctx.sysctl('net.ipv4.tcp_retries2', String(retries2));
    const faults = await Faults.open(ctx);
    const d1 = await open({ read: true });
    const d2 = await open({ read: true });
    const d3 = await open({ read: true });
    const ut = await client.request<number>({ op: 'sockopt', conn: d1.c.conn, level: IPPROTO_TCP, name: TCP_USER_TIMEOUT, value: userMs });
    const ka = await client.request<Record<string, number>>({ op: 'keepalive', conn: d3.c.conn, idle: kIdle, interval: kIntvl, count: kCnt });
    ctx.event('sockopt', `TCP_USER_TIMEOUT = ${ut} ms on :${d1.c.localPort}; keepalive on :${d3.c.localPort}: ${JSON.stringify(ka)} (getsockopt)`);
    const clientEnd = (k: DeathCase) => endsOf(k.conn.localPort, port).client;
    let dropped = 0;
    const { value: deaths, delta } = await withCounters(ctx, 'while the server was silent', async () => {
      const silence = await faults.drop({ kind: 'all', fromPort: port }, 'the server goes silent: nothing it sends reaches the client');
      const cases: DeathCase[] = [
        { name: 'unacked data, TCP_USER_TIMEOUT', how: `TCP_USER_TIMEOUT ${ut} ms`, conn: d1.c, startedAt: 0 },
        { name: 'unacked data, tcp_retries2', how: `tcp_retries2 = ${retries2}`, conn: d2.c, startedAt: 0 },
        { name: 'idle, keepalive', how: `keepalive idle ${ka.idle} s, interval ${ka.interval} s, count ${ka.count}`, conn: d3.c, startedAt: ctx.elapsedMs() },
      ];
      for (const k of cases.slice(0, 2)) {
        k.startedAt = ctx.elapsedMs();
        await client.request({ op: 'write', conn: k.conn.conn, bytes: 1000 });
      }
      const timers = await ctx.waitSs('retransmit timers (at least one retransmission) on the two connections with data and a keepalive timer on the idle one', (xs) =>
        cases.slice(0, 2).every((k) => { const t = endIn(xs, clientEnd(k))?.timer; return t?.name === 'on' && t.retransmits >= 1; }) &&
        endIn(xs, clientEnd(cases[2]))?.timer?.name === 'keepalive',
        { label: 'silent: the client retransmits and keeps alive', processes: true },
      );
      for (const k of cases) k.timerSeen = endIn(timers, clientEnd(k))?.timer?.raw;
      await Promise.all(
        cases.map(async (k) => {
          k.error = await client.waitEvent('error', k.conn.conn, 60_000);
          k.tookMs = ctx.elapsedMs() - k.startedAt;
          ctx.progress(`${k.name}: ${k.error.code} after ${k.tookMs} ms`);
        }),
      );
      const after = await ctx.snapshot('after the kernel timeouts', { processes: true });
      for (const k of cases) {
        k.clientAfter = stateIn(after, clientEnd(k));
        k.serverAfter = stateIn(after, endsOf(k.conn.localPort, port).server);
      }
      dropped = await faults.lift(silence, 'the server may speak again');
      return cases;
    });
    for (const k of deaths) ctx.event('timeout', `${k.name} (${k.how}): ${k.error?.code} after ${k.tookMs} ms; timer seen ${k.timerSeen}; the silent server's end: ${k.serverAfter}`, { name: k.name, code: k.error?.code, tookMs: k.tookMs });

    ctx.step("the server speaks again on its half-open connection: the client's kernel no longer knows it");
    const srvConn = d1.s.conn;
    const { value: late, delta: lateDelta } = await withCounters(ctx, 'the server writes on its half-open connection', async () => {
      const w = await server.syswrite(srvConn, 10);
      await ctx.waitSs("the server's half-open socket to be reset", (xs) => stateIn(xs, endsOf(d1.c.localPort, port).server) === 'absent', { label: 'after the server wrote on its half-open connection' });
      const reads: SyscallResult[] = [];
      for (let i = 0; i < 3 && reads.at(-1)?.ret !== 0 && reads.at(-1)?.ret !== -1; i++) reads.push(await server.sysread(srvConn));
      return { w, reads };
    });
    const lateText = `send(2) -> ${fmt(late.w)}, then recv(2) -> ${late.reads.map(fmt).join(', ')}`;
    ctx.event('syscall', `server on its half-open socket: ${lateText} (${formatDelta(lateDelta)})`, { call: 'send-then-recv', send: late.w.ret, recv: late.reads.map((r) => r.errno ?? r.ret) });
    checkActors([server, client]);

    ctx.table({
      title: 'What ended the connections whose peer went silent',
      columns: ['connection', 'mechanism', 'timer ss showed', 'errno', 'took (ms)', 'client end after', "silent server's end"],
      rows: deaths.map((k) => [k.name, k.how, k.timerSeen ?? '', k.error?.code ?? 'none', String(k.tookMs ?? ''), k.clientAfter ?? '', k.serverAfter ?? '']),
      note: `Counters while silent: ${formatDelta(delta)}; ${dropped} segment(s) from :${port} dropped. Afterwards, on its half-open socket, the server's ${lateText}; counters: ${formatDelta(lateDelta)}.`,
    });

    // ---- verdicts -----------------------------------------------------------------------------------
    const shown = (st: string | undefined) => (st === 'absent' ? 'gone' : st ?? 'not seen');
    {
      const stayed = app.filter((a) => a.client === 'ESTAB' && a.server === 'ESTAB');
      const moved = app.filter((a) => !stayed.includes(a));
      const timedOut = recv.errno === 'EAGAIN' && send.last.errno === 'EAGAIN' && ev.kind === 'timeout';
      const obs = app.map((a) => `${a.name}: ${a.result}${a.elapsedMs !== undefined ? ` (${a.elapsedMs} ms)` : ''}, then client ${shown(a.client)} / server ${shown(a.server)}, ${a.stillWorks}`).join('; ');
      const summary = moved.length === 0
        ? 'Each timeout only ended the call (EAGAIN) or fired an event; both ends were still ESTABLISHED afterwards.'
        : `Not every connection stayed ESTABLISHED: ${moved.map((a) => `${a.name}: client ${shown(a.client)}, server ${shown(a.server)}`).join('; ')}.`;
      if (!timedOut) ctx.verdict('send-recv-timeout-closes', 'inconclusive', `not every timeout fired (recv ${fmt(recv)}, last send ${fmt(send.last)}, setTimeout ${ev.kind} event): ${obs}`);
      else ctx.verdict('send-recv-timeout-closes', stayed.length === 0 ? 'confirmed' : stayed.length === app.length ? 'refuted' : 'partly', `${stayed.length}/${app.length} connections were still ESTABLISHED on both ends after their timeout. ${obs}. ${summary}`);
    }
    {
      const dead = deaths.filter((k) => k.error?.code === 'ETIMEDOUT');
      const clientGone = deaths.filter((k) => k.clientAfter === 'absent');
      const halfOpen = deaths.filter((k) => k.serverAfter === 'ESTAB');
      const keepalive = deaths[2];
      const rsts = delta['Tcp.OutRsts'] ?? 0;
      const first = deaths[0];
      const obs =
        `${deaths.map((k) => `${k.name} (${k.how}): ${k.error?.code ?? 'no error'} after ${k.tookMs} ms, timer ${k.timerSeen}, client end then ${shown(k.clientAfter)}`).join('; ')}. ` +
        `Counters while silent: ${formatDelta(delta)}. ` +
        (clientGone.length === deaths.length
          ? 'ss listed none of the client sockets afterwards, in any state (no FIN-WAIT, no TIME-WAIT): each went from ESTABLISHED to CLOSED. '
          : `${clientGone.length}/${deaths.length} client sockets were gone afterwards. `) +
        `${halfOpen.length}/${deaths.length} of the silent server's ends stayed ESTABLISHED (half-open)` +
        (keepalive.serverAfter === 'absent'
          ? `; the keepalive connection's server end was gone too${rsts >= 1 ? ` (Tcp.OutRsts +${rsts} while silent: the keepalive abort sends an RST, and only the server's direction was dropped)` : ''}`
          : '') +
        `. On the ${first.name} connection, whose server end was ${shown(first.serverAfter)}, the server then wrote: ${lateText}.`;
      ctx.verdict('kernel-timeout-closes', dead.length === deaths.length && clientGone.length === deaths.length ? 'confirmed' : dead.length ? 'partly' : 'refuted', obs);
    }
  },
});
