// Does a send/recv timeout close a connection? And which timeouts of the kernel's own do?
import { A002, Faults, IPPROTO_TCP, NFT_INSTALL, TCP_USER_TIMEOUT, all, check, checkActors, defineLab, endIn, endsOf, every, formatResult, int, is, need, startActors, stateIn, machineSlowness, type SockRecord, type SyscallResult } from '../harness/index.ts';

export default defineLab({
  title: 'A send/recv timeout does not close a connection; retransmission and keepalive timeouts do',
  seconds: 5,
  setup:
    'A server and two client actor processes. On one port the server goes silent (an nftables rule in the sandbox drops ' +
    'everything it sends from there) and three connections are left to the kernel: unacknowledged data with TCP_USER_TIMEOUT, ' +
    'unacknowledged data under a shortened tcp_retries2, and an idle one with keepalive (all lengthened by the time scale on ' +
    "a slower machine); the timers ss shows, the errno each dies with and how long it took are recorded. Meanwhile, on another port, the application's " +
    "timeouts: Node's socket.setTimeout, a blocking recv(2) with SO_RCVTIMEO and blocking send(2) calls with SO_SNDTIMEO to a " +
    'peer that does not read; ss shows both ends afterwards and the connection is used again.',
  claims: {
    'send-recv-timeout-closes': [A002, 'If a send or a recv on a connection times out, the connection goes straight to CLOSED.'],
    'kernel-timeout-closes': [A002, "Read as the kernel's own timeouts: when the peer stops answering, the retransmission or keepalive timeout takes the connection straight to CLOSED."],
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  options: {
    'app-timeout-ms': int(50, 5000, 300, 'SO_RCVTIMEO / SO_SNDTIMEO / socket.setTimeout value', 'ms'),
    'user-timeout-ms': int(200, 30000, 1000, 'TCP_USER_TIMEOUT of the first silent connection', 'ms'),
    retries2: int(1, 6, 2, "net.ipv4.tcp_retries2 inside the sandbox (the default 15 takes ~15 min; 6 takes ~25 s); one more per doubling of a slower machine's time scale"),
    'keepalive-idle': int(1, 30, 1, 'TCP_KEEPIDLE of the idle connection: silence before the first probe', 's'),
    'keepalive-interval': int(1, 10, 1, 'TCP_KEEPINTVL of the idle connection: time between probes', 's'),
    'keepalive-count': int(1, 5, 2, 'TCP_KEEPCNT of the idle connection: unanswered probes before it is dropped', 'probes'),
  },
  async run(ctx, o) {
    const [[server, client, quiet], port, silentPort, ms] = [await startActors(ctx, ['server', 'client', 'timer-client']), ctx.port(), ctx.port(), o['app-timeout-ms']];
    for (const p of [port, silentPort]) await server.listen(p, { allowHalfOpen: true });
    const open = async (read = false, who = client, p = port) => { const c = await who.connect(p, { read }); return { c, s: await server.accepted(c.localPort, p), end: endsOf(c.localPort, p) }; };
    // kernel timers get room on a slower machine (an emulated guest, not a busy host's load): x its time scale as a power of 2, recorded; their length is not what the claims test
    const scale = machineSlowness(), pace = 2 ** Math.round(Math.log2(scale)), retries2 = o.retries2 + Math.log2(pace);
    if (pace > 1) ctx.event('pace', `kernel timers x${pace} (the harness runs ${scale.toFixed(1)}x slower): TCP_USER_TIMEOUT, keepalive idle and interval; tcp_retries2 ${o.retries2} + ${retries2 - o.retries2}`, { scale: pace, retries2 });
    ctx.step(`kernel timeouts: tcp_retries2 = ${retries2}, the server goes silent on :${silentPort}, then the timers start (the application timeouts run meanwhile)`);
    const [, faults] = [await ctx.sysctl('net.ipv4.tcp_retries2', String(retries2)), await Faults.open(ctx)];
    const [d1, d2, d3] = [await open(true, quiet, silentPort), await open(true, quiet, silentPort), await open(true, quiet, silentPort)];
    const ut = await quiet.request<number>({ op: 'sockopt', conn: d1.c.conn, level: IPPROTO_TCP, name: TCP_USER_TIMEOUT, value: o['user-timeout-ms'] * pace });
    const silence = await faults.drop({ kind: 'all', fromPort: silentPort }, 'the server goes silent: nothing it sends reaches the client');
    const t0 = ctx.elapsedMs(); // every timer starts after the silence: keepalive's idle time, the data's retransmissions
    const ka = await quiet.request<Record<string, number>>({ op: 'keepalive', conn: d3.c.conn, idle: o['keepalive-idle'] * pace, interval: o['keepalive-interval'] * pace, count: o['keepalive-count'] });
    for (const d of [d1, d2]) await quiet.request({ op: 'write', conn: d.c.conn, bytes: 1000 });
    const hows = [`TCP_USER_TIMEOUT ${ut} ms`, `tcp_retries2 = ${retries2}`, `keepalive ${ka.idle}/${ka.interval}/${ka.count}`];
    const limit = Math.max(ut, 200 * 2 ** (retries2 + 1), (ka.idle + ka.interval * ka.count) * 1000) + 10_000; // the longest setting, with room
    const errorsP = ctx.sampleWhile('the kernel timeouts', () => Promise.all([d1, d2, d3].map((d) => quiet.waitEvent('error', d.c.conn, limit).then((e) => ({ code: e.code, tookMs: ctx.elapsedMs() - t0 })))));
    errorsP.catch(() => {}); // awaited after the application timeouts, which run meanwhile on their own port and actor
    const seen: (string | undefined)[] = []; // each connection's timer as ss first showed it (reads need not catch all three at once)
    const timing = (xs: SockRecord[], i: number) => ((t) => (t && (i < 2 ? t.retransmits >= 1 : t.name === 'keepalive') ? t.raw : undefined))(endIn(xs, [d1, d2, d3][i].end.client)?.timer);
    await ctx.waitSs('retransmit timers on the connections with data, keepalive on the idle one', (xs) => [0, 1, 2].map((i) => (seen[i] ??= timing(xs, i))).every(Boolean), { label: 'silent: the client retransmits and keeps alive', filter: { peerPort: silentPort } });
    ctx.step(`meanwhile, application timeouts of ${ms} ms on :${port}: socket.setTimeout, recv(2) with SO_RCVTIMEO, send(2) with SO_SNDTIMEO`);
    const [a1, a2, a3] = [await open(), await open(), await open()];
    await client.request({ op: 'idleTimeout', conn: a1.c.conn, ms });
    const recvP = client.request<SyscallResult>({ op: 'blockingRecv', conn: a2.c.conn, timeoutMs: ms }, ms + 5000);
    const fired = await client.waitEvent('timeout', a1.c.conn, ms + 2000).then((e) => `'${e.kind}' event`);
    const recv = await recvP;
    const send = await client.request<{ last: SyscallResult }>({ op: 'blockingSend', conn: a3.c.conn, timeoutMs: ms, maxBytes: 256 << 20 }, 30_000);
    const app = [];
    for (const [name, x, returned] of [['socket.setTimeout', a1, fired], ['recv(2) with SO_RCVTIMEO', a2, formatResult(recv)], ['send(2) with SO_SNDTIMEO', a3, formatResult(send.last)]] as const) {
      const snap = await ctx.snapshot(`after ${name}`, { focus: { port: x.c.localPort } });
      let afterwards = `Send-Q ${endIn(snap, x.end.client)?.sendQ} bytes still queued`;
      if (x !== a3) { // the server sends 10 bytes: does the client still receive them?
        await server.syswrite(x.s.conn, 10);
        await ctx.waitSs(`10 bytes at the client :${x.c.localPort}`, (xs) => endIn(xs, x.end.client)?.recvQ === 10, { filter: { localPort: x.c.localPort } });
        afterwards = `client recv(2) afterwards: ${formatResult(await client.sysread(x.c.conn, 10))}`;
      }
      app.push({ name, returned, client: stateIn(snap, x.end.client), server: stateIn(snap, x.end.server), afterwards });
    }
    for (const x of [a1, a2, a3]) await client.request({ op: 'reset', conn: x.c.conn });
    ctx.step('the kernel timeouts run out');
    const [errors, after] = [await errorsP, await ctx.snapshot('after the kernel timeouts')];
    await faults.lift(silence, 'the server may speak again').then(() => checkActors([server, client, quiet]));
    return {
      app: app.map((a) => ({ ...a, timedOut: a.returned.includes('EAGAIN') || a.returned.includes('timeout') })),
      silent: [d1, d2, d3].map((d, i) => ({ how: hows[i], timer: seen[i], ...errors[i], client: stateIn(after, d.end.client), server: stateIn(after, d.end.server) })),
    };
  },
  judge: ({ app, silent }) => ({
    'send-recv-timeout-closes': every(
      need('every timeout fired', app.length === 3 && app.every((a) => a.timedOut), app.map((a) => `${a.name}: ${a.returned}`).join('; ')),
      app.map((a) => check(`after ${a.name} (${a.returned}): client / server end`, `${a.client} / ${a.server}`, 'both gone (CLOSED)', a.client === 'absent' && a.server === 'absent')),
    ),
    'kernel-timeout-closes': all(
      need('timers seen while silent', silent.length === 3 && silent.every((d) => d.timer), silent.map((d) => `${d.how}: ${d.timer ?? 'none'}`).join('; ')),
      silent.flatMap((d) => [is(`${d.how}: errno after ${d.tookMs} ms`, d.code, 'ETIMEDOUT'), is(`${d.how}: client end afterwards (no FIN-WAIT, no TIME-WAIT)`, d.client, 'absent')]),
    ),
  }),
  tables: ({ app, silent }) => [
    { title: 'Application timeouts', columns: ['timeout', 'returned', 'client end after', 'server end after', 'afterwards'], rows: app.map((a) => [a.name, a.returned, a.client, a.server, a.afterwards]) },
    { title: 'The server went silent', columns: ['mechanism', 'timer ss showed', 'errno', 'after (ms)', 'client end after', "silent server's end"], rows: silent.map((d) => [d.how, d.timer ?? '', d.code ?? 'none', String(d.tookMs), d.client, d.server]) },
  ],
});
