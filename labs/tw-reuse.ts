// When does tcp_tw_reuse let connect() take a local port still in TIME-WAIT, and does it help a server?
import { setTimeout as sleep } from 'node:timers/promises'; // retry pacing only; states are waited for with ss
import { A000, A002, all, check, closeActively, closeFd, connectFrom, createNetns, defineLab, every, hasSysctl, int, ints, is, listenIn, need, no, readSysctl, tryListen, twoHosts, yes, type Netns } from '../harness/index.ts';
const CLIENT_PORT = 41000;
type Cell = { closeMs: number; lastFailAtMs?: number; reusedAfterMs?: number; failures: string[] };
const brackets = (c: Cell | undefined, d: number) => !!c && c.reusedAfterMs !== undefined && c.reusedAfterMs >= d - 1 && (c.lastFailAtMs === undefined || c.lastFailAtMs - c.closeMs <= d + 1); // the switch from failing to reusing fits a reuse delay of d ms (TIME-WAIT began during the close)
const fmt = (c?: Cell) => (!c ? 'not run' : c.reusedAfterMs !== undefined ? `reused after ${c.reusedAfterMs} ms` : `no reuse (${[...new Set(c.failures)].join('/') || '-'})`);
export default defineLab({
  title: 'tcp_tw_reuse: when connect() may take a port still in TIME-WAIT',
  seconds: 3,
  setup:
    'Each cell has its own namespaces (its own sysctls; all run at once): a client with a one-port ip_local_port_range ' +
    'connects, closes first (its port goes to TIME-WAIT) and, once ss shows that TIME-WAIT, retries connect() every 50 ms until ' +
    'it works or the deadline passes. Cells: tcp_tw_reuse 0/1/2 x tcp_timestamps 0/1 x loopback / two hosts, plus tcp_tw_reuse_delay ' +
    'values. Then a server that closed first tries to listen again on its port, tcp_tw_reuse on, no SO_REUSEADDR.',
  claims: {
    'reuse-after-1s': [A000, 'With tcp_tw_reuse=1 and tcp_timestamps=1, connect() reuses a local port whose TIME-WAIT socket is more than 1 second old.'],
    'reuse-needs-timestamps': [A000, 'tcp_tw_reuse only works together with tcp_timestamps.'],
    'reuse-client-only': [A000, 'tcp_tw_reuse only helps the side that calls connect() (the client); it does nothing for a server.'],
    'tw-reuse-remedy': [A002, 'Setting tcp_tw_reuse=1 lets TIME-WAIT sockets be reused for new connections; the default is 0 (off).'],
  },
  options: {
    delays: ints(1, 10000, [200, 2500], 'extra tcp_tw_reuse_delay values to measure (two hosts, reuse=1, timestamps=1)', 'ms'),
    deadline: int(500, 20000, 2500, 'how long a matrix cell retries connect(), from the TIME-WAIT ss showed', 'ms'),
  },
  async run(ctx, o) {
    const hasDelay = hasSysctl('net.ipv4.tcp_tw_reuse_delay');
    const defaults = { reuse: readSysctl('net.ipv4.tcp_tw_reuse'), ts: readSysctl('net.ipv4.tcp_timestamps'), delay: hasDelay ? readSysctl('net.ipv4.tcp_tw_reuse_delay') : undefined };
    let subnet = 0; // each pair of hosts gets its own /24
    const cell = async (topo: string, reuse: number, ts: number, deadlineMs: number, delay?: number): Promise<Cell> => {
      const id = `${topo}-r${reuse}-t${ts}${delay ? `-d${delay}` : ''}`;
      const t = topo === 'loopback' ? undefined : await twoHosts(ctx, { subnet: ++subnet, separateServer: true, clientName: `client-${id}`, serverName: `server-${id}` });
      const client: Netns = t?.client ?? (await createNetns(ctx, `lo-${id}`));
      const [server, addr] = [t?.server ?? client, t?.serverAddr ?? '127.0.0.1'];
      for (const [k, v] of [['tcp_tw_reuse', reuse], ['tcp_timestamps', ts], ['ip_local_port_range', `${CLIENT_PORT} ${CLIENT_PORT}`], ...(delay ? [['tcp_tw_reuse_delay', delay]] : [])]) await client.sysctl(`net.ipv4.${k}`, String(v));
      if (server !== client) await server.sysctl('net.ipv4.tcp_timestamps', String(ts));
      const port = ctx.port();
      ctx.defer(await listenIn(server, { host: t ? '0.0.0.0' : addr, port, reuseaddr: true }).then((l) => () => l.close()));
      const closedAt = Date.now();
      await closeActively(await connectFrom(client, port, addr));
      const c: Cell = { closeMs: Date.now() - closedAt, failures: [] };
      const seenAt = await ctx.waitForSockets(`TIME-WAIT on ${client.name}:${CLIENT_PORT}`, { localPort: CLIENT_PORT, state: 'TIME-WAIT' }, { host: client.host }).then(() => Date.now()); // the retry window starts at the TIME-WAIT seen, so a slow set-up cannot use it up
      while (Date.now() - seenAt < deadlineMs && !ctx.signal.aborted && c.reusedAfterMs === undefined) {
        const at = Date.now() - closedAt;
        await connectFrom(client, port, addr).then((s) => { ctx.defer(() => s.destroy()); c.reusedAfterMs = Date.now() - closedAt; }, (e: NodeJS.ErrnoException) => { c.failures.push(e.code ?? String(e)); c.lastFailAtMs = at; return sleep(50); });
      }
      return c;
    };
    ctx.step('run every cell at once, each in its own namespaces');
    const [cells, delays] = await Promise.all([
      ctx.matrix({ topo: ['loopback', 'two-host'], reuse: [0, 1, 2], ts: [0, 1] }, (x) => cell(x.topo, x.reuse, x.ts, o.deadline), { concurrent: true }),
      ctx.matrix({ delay: hasDelay ? o.delays : [] }, (x) => cell('two-host', 1, 1, x.delay + 1500, x.delay), { concurrent: true }),
    ]);
    ctx.step('a server that closed first listens again on its port, tcp_tw_reuse=1, without SO_REUSEADDR');
    const [ns, port] = [await createNetns(ctx, 'server-side'), ctx.port()];
    await ns.sysctl('net.ipv4.tcp_tw_reuse', '1');
    const l = await listenIn(ns, { host: '127.0.0.1', port });
    const c = await connectFrom(ns, port, '127.0.0.1');
    await closeActively(await l.nextConnection()); c.destroy(); await l.close();
    const tws = await ctx.waitForSockets('TIME-WAIT on the server port', { localPort: port, state: 'TIME-WAIT' }, { host: ns.host, label: 'server-side: TIME-WAIT on the listening port' });
    const a = ns.within(() => tryListen({ host: '127.0.0.1', port })); if (a.fd !== undefined) closeFd(a.fd);
    return { defaults, deadline: o.deadline, cells, delays, server: { reuse: ns.readSysctl('net.ipv4.tcp_tw_reuse'), twSeen: tws.length, bind: a.bind } };
  },
  judge: ({ defaults, deadline, cells, delays, server }) => {
    const [main, noTs, r1] = [cells.find((c) => c.topo === 'two-host' && c.reuse === 1 && c.ts === 1)?.evidence, cells.filter((c) => c.ts === 0 && c.reuse !== 0), cells.filter((c) => c.reuse === 1 && c.ts === 1)];
    const watched = need(`a watch long enough to see reuse start after 1 s (deadline ${deadline} ms)`, deadline >= 1500 || main?.reusedAfterMs !== undefined, `the watch ended at ${deadline} ms`);
    return {
      'reuse-after-1s': all(
        watched, need('a connect() was refused before the port was reused (else the switch was not seen)', !main || main.reusedAfterMs === undefined || main.lastFailAtMs !== undefined || main.reusedAfterMs < 999, `the first connect(), ${main?.reusedAfterMs} ms after the close, already reused it: the TIME-WAIT was seen too late`),
        check('two hosts, reuse=1, timestamps=1: the switch from failing to reusing', main && `${fmt(main)} (last failure ${main.lastFailAtMs ?? '-'} ms, close took ${main.closeMs} ms)`, 'at 1000 ms after TIME-WAIT began', brackets(main, 1000)),
      ),
      'reuse-needs-timestamps': every(
        need('some cell with timestamps on reused the port', cells.some((c) => c.ts === 1 && c.evidence?.reusedAfterMs !== undefined), 'none did, so the comparison says nothing'),
        noTs.map((c) => no(`${c.topo}, tcp_tw_reuse=${c.reuse}, timestamps off: reused the port`, c.evidence && c.evidence.reusedAfterMs !== undefined)),
      ),
      'reuse-client-only': every(
        watched,
        need(`the server side had tcp_tw_reuse on (read back: ${server.reuse}) and TIME-WAIT on its port`, server.reuse !== '0' && server.twSeen > 0, 'it did not'),
        yes('a client with tcp_tw_reuse on reused a TIME-WAIT port', cells.some((c) => c.reuse !== 0 && c.evidence?.reusedAfterMs !== undefined)),
        is(`the server listening again on its TIME-WAIT port with tcp_tw_reuse=${server.reuse}, no SO_REUSEADDR`, server.bind, 'EADDRINUSE'),
      ),
      'tw-reuse-remedy': all(
        watched,
        r1.map((c) => yes(`${c.topo}, tcp_tw_reuse=1 with timestamps: reused (${fmt(c.evidence)})`, c.evidence && c.evidence.reusedAfterMs !== undefined)),
        is('tcp_tw_reuse of a fresh namespace', defaults.reuse, '0'),
      ),
    };
  },
  tables: ({ cells, delays, defaults }) => [{ title: 'connect() from a single local port held by TIME-WAIT (retry every 50 ms)', columns: ['topology', 'tcp_tw_reuse', 'timestamps off', 'timestamps on'], rows: ['loopback', 'two-host'].flatMap((topo) => [0, 1, 2].map((r) => [topo, String(r), ...[0, 1].map((ts) => fmt(cells.find((c) => c.topo === topo && c.reuse === r && c.ts === ts)?.evidence))])) }, { title: `tcp_tw_reuse_delay (two hosts, reuse=1, timestamps=1; default ${defaults.delay ?? 'absent'})`, columns: ['delay', 'first reuse', 'switch brackets the delay'], rows: delays.map((d) => [`${d.delay} ms`, fmt(d.evidence), brackets(d.evidence, d.delay) ? 'yes' : 'no']) }],
});
