// Tests: SO_LINGER with l_linger = 0 (and Node's resetAndDestroy) makes close() send RST and skip TIME-WAIT,
// a normal close() does not, and a non-zero linger only makes close() wait: it still sends FIN.
import type { LabContext } from '../harness/lab/context.ts';
import { checkActors, startActors, type Actor } from '../harness/actors/actors.ts';
import { withCounters } from '../harness/lab/counters.ts';
import type { ConnInfo, SyscallResult } from '../harness/actors/protocol.ts';
import { A000, A003 } from '../harness/lab/articles.ts';
import { formatDelta, type Counters } from '../harness/kernel/counters.ts';
import { endIn, endsOf, stateIn } from '../harness/lab/endpoints.ts';
import { WaitTimeout } from '../harness/errors.ts';
import { defineLab } from '../harness/lab/define.ts';

type Mode = 'close' | 'linger0' | 'resetAndDestroy' | 'linger-n' | 'linger-n-blocked';

interface Row {
  mode: Mode;
  how: string;
  linger?: { onoff: boolean; seconds: number };
  closeMs: number;
  /** the client's end just after close() returned, and once settled ('absent' = ss no longer lists it) */
  clientAfter: string;
  sendQAfter: number;
  clientSettled: string;
  serverSaw: string;
  delta: Counters;
}

async function oneCase(ctx: LabContext, mode: Mode, server: Actor, client: Actor, port: number, seconds: number): Promise<Row> {
  const how = {
    close: 'close() with SO_LINGER off (the default)',
    linger0: 'SO_LINGER {1, 0}, then close()',
    resetAndDestroy: "Node's socket.resetAndDestroy()",
    'linger-n': `SO_LINGER {1, ${seconds}}, then close(); the peer reads`,
    'linger-n-blocked': `SO_LINGER {1, ${seconds}}, then close() with the send buffer full and the peer not reading`,
  }[mode];
  ctx.step(how);
  const c: ConnInfo = await client.connect(port);
  const s = await server.accepted(c.localPort);
  const { client: clientEnd } = endsOf(c.localPort, port);
  if (mode !== 'linger-n-blocked') await server.request({ op: 'resume', conn: s.conn });
  else {
    // fill the client's send buffer and the server's receive buffer: what close() would have to deliver
    let r: SyscallResult;
    do r = await client.syswrite(c.conn, 1 << 20);
    while (r.ret > 0);
    ctx.event('syscall', `client send(2) until the buffers are full: last -> -1 ${r.errno}`, { mode, errno: r.errno });
  }
  let linger: Row['linger'];
  if (mode === 'linger0') linger = await client.request({ op: 'linger', conn: c.conn, onoff: true, seconds: 0 });
  if (mode.startsWith('linger-n')) linger = await client.request({ op: 'linger', conn: c.conn, onoff: true, seconds });
  if (linger) ctx.event('sockopt', `SO_LINGER read back: {${+linger.onoff}, ${linger.seconds}}`, { mode, ...linger });
  const { value, delta } = await withCounters(ctx, how, async () => {
    let closeMs = 0;
    if (mode === 'resetAndDestroy') await client.request({ op: 'reset', conn: c.conn });
    else closeMs = (await client.request<{ closeMs: number }>({ op: 'destroy', conn: c.conn }, seconds * 1000 + 5000)).closeMs;
    const right = (await ctx.snapshot(`${mode}: just after close() returned`, { processes: true, focus: { port: c.localPort } })).sockets;
    const clientAfter = stateIn(right, clientEnd);
    const sendQAfter = endIn(right, clientEnd)?.sendQ ?? 0;
    if (mode === 'linger-n-blocked') await server.request({ op: 'resume', conn: s.conn }); // now let the data and the FIN through
    const settled = await ctx.waitSs(`the client end of :${c.localPort} to settle (TIME-WAIT or gone)`, (xs) => ['TIME-WAIT', 'absent'].includes(stateIn(xs, clientEnd)), { label: `${mode}: settled`, timeoutMs: 5000 });
    return { closeMs, clientAfter, sendQAfter, clientSettled: stateIn(settled, clientEnd) };
  });
  ctx.event('close', `${how}: close() returned after ${value.closeMs} ms; client end ${value.clientAfter}, then ${value.clientSettled}`, { mode, ...value });
  // a WaitTimeout means the server never saw its connection close; an interruption or an actor crash propagates
  const ev = await server.waitEvent('close', s.conn, 3000).then(
    () => 'closed',
    (err: unknown) => {
      if (err instanceof WaitTimeout) return 'no close';
      throw err;
    },
  );
  const err = server.events.find((e) => e.conn === s.conn && e.kind === 'error');
  const end = server.events.find((e) => e.conn === s.conn && e.kind === 'end');
  const serverSaw = err ? `error ${err.code}` : end ? "'end' (FIN), no error" : `${ev}`;
  return { mode, how, ...(linger ? { linger } : {}), ...value, serverSaw, delta };
}

export default defineLab({
  name: 'linger-zero',
  title: 'SO_LINGER: l_linger = 0 sends RST and skips TIME-WAIT; a non-zero linger only makes close() wait',
  description:
    'A client actor closes a connection to a server actor five ways: plain close(), SO_LINGER {1,0} then close(), ' +
    "Node's resetAndDestroy(), SO_LINGER {1,N} then close() with nothing left to send, and SO_LINGER {1,N} " +
    'then close() while the send buffer is full and the server is not reading. For each: how long close() took, ' +
    "the client's socket right after and once settled (TIME-WAIT or gone), the namespace's RST/abort counters, and " +
    'what the server saw (FIN or ECONNRESET).',
  claims: [
    { id: 'linger-sends-rst', source: A000, statement: 'With SO_LINGER set, close() sends RST and tears the connection down at once (no TIME-WAIT); not recommended.' },
    { id: 'linger-close-waits', source: A003, statement: 'With SO_LINGER set to a non-zero time, close() does not release the socket at once: it waits up to that time (for unsent data to go out).' },
  ],
  options: {
    port: { type: 'number', min: 1024, max: 65000, default: 9600, describe: 'port the server actor listens on' },
    seconds: { type: 'number', min: 1, max: 10, default: 1, describe: 'l_linger of the non-zero cases' },
  },
  async run(ctx) {
    const port = ctx.options.port as number;
    const seconds = ctx.options.seconds as number;
    ctx.step('start two actor processes: server and client');
    const [server, client] = await startActors(ctx, ['server', 'client']);
    await server.listen(port); // Node defaults: answers a FIN with its own FIN
    const rows: Row[] = [];
    for (const mode of ['close', 'linger0', 'resetAndDestroy', 'linger-n', 'linger-n-blocked'] as const) rows.push(await oneCase(ctx, mode, server, client, port, seconds));
    checkActors([server, client]);

    ctx.table({
      title: 'Five ways to close',
      columns: ['close', 'SO_LINGER read back', 'close() took (ms)', 'client end right after', 'client end settled', 'server saw', 'counters'],
      rows: rows.map((r) => [r.how, r.linger ? `{${+r.linger.onoff}, ${r.linger.seconds}}` : '', String(r.closeMs), `${r.clientAfter}${r.sendQAfter ? ` (Send-Q ${r.sendQAfter})` : ''}`, r.clientSettled, r.serverSaw, formatDelta(r.delta)]),
      note: 'TCPAbortOnData is what Linux counts for a linger-0 close (tcp_close() in net/ipv4/tcp.c); Tcp.OutRsts counts RST segments sent.',
    });

    const by = (m: Mode) => rows.find((r) => r.mode === m)!;
    const rst = (r: Row) => (r.delta['Tcp.OutRsts'] ?? 0) >= 1 && r.clientSettled === 'absent' && r.serverSaw === 'error ECONNRESET';
    const fin = (r: Row) => (r.delta['Tcp.OutRsts'] ?? 0) === 0 && r.clientSettled === 'TIME-WAIT' && !r.serverSaw.startsWith('error');
    const line = (r: Row) => `${r.how}: ${r.clientSettled === 'absent' ? 'no TIME-WAIT' : r.clientSettled}, server saw ${r.serverSaw}, ${formatDelta(r.delta)}`;
    {
      const zero = [by('linger0'), by('resetAndDestroy')];
      const nonZero = [by('linger-n'), by('linger-n-blocked')];
      const baseline = by('close');
      const obs = [baseline, ...zero, ...nonZero].map(line).join('; ') + '.';
      if (!fin(baseline)) ctx.verdict('linger-sends-rst', 'inconclusive', `the plain close() baseline did not end in TIME-WAIT without RST: ${obs}`);
      else if (zero.every(rst) && nonZero.every(fin)) ctx.verdict('linger-sends-rst', 'partly', `Only l_linger = 0 sends RST and skips TIME-WAIT; a non-zero linger still closes with FIN and leaves TIME-WAIT. ${obs}`);
      else if (zero.every(rst) && nonZero.every(rst)) ctx.verdict('linger-sends-rst', 'confirmed', obs);
      else ctx.verdict('linger-sends-rst', zero.some(rst) ? 'partly' : 'refuted', obs);
    }
    {
      const blocked = by('linger-n-blocked');
      const free = by('linger-n');
      const waited = blocked.closeMs >= seconds * 1000 * 0.9;
      const obs = `With SO_LINGER {1, ${seconds}}: close() took ${blocked.closeMs} ms while ${blocked.sendQAfter} bytes could not be delivered (client end right after: ${blocked.clientAfter}, then ${blocked.clientSettled} once the server read), and ${free.closeMs} ms when nothing was left to send; a plain close() took ${by('close').closeMs} ms.`;
      ctx.verdict('linger-close-waits', waited && free.closeMs < seconds * 1000 * 0.5 ? 'confirmed' : waited ? 'partly' : 'refuted', obs);
    }
  },
});
