// Tests: when tcp_tw_reuse lets connect() take a local port still in TIME-WAIT (tcp_tw_reuse 0/1/2 x
// tcp_timestamps 0/1 x loopback / two hosts), how long after close it starts (and tcp_tw_reuse_delay's
// effect), and whether it does anything for a server's listening port.
import type net from 'node:net';
import { A000, A002 } from '../harness/lab/articles.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import { counterDelta } from '../harness/kernel/counters.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { closeFd } from '../harness/kernel/ffi.ts';
import { defineLab } from '../harness/lab/define.ts';
import { closeActively, tryListen } from '../harness/kernel/sockets.ts';
import { countersOf } from '../harness/kernel/topology-counters.ts';
import { connectFrom, listenIn } from '../harness/kernel/topology-sockets.ts';
import { createNetns, twoHosts, type Netns } from '../harness/kernel/topology.ts';
// retry pacing only (states are waited for with ctx.waitSs)
import { setTimeout as sleep } from 'node:timers/promises';
import { hasSysctl, readSysctl } from '../harness/kernel/sysctl.ts';

const CLIENT_PORT = 41000;
const SERVER_PORT = 8080;
const POLL_MS = 50;

type Topo = 'loopback' | 'two-host';

interface Cell {
  id: string;
  topo: Topo;
  reuse: number;
  ts: number;
  /** tcp_tw_reuse_delay in ms; undefined = the kernel default */
  delay?: number;
  deadlineMs: number;
  /** ms from the client's close() call until its close handshake was done (TIME-WAIT began in between) */
  closeMs?: number;
  /** ms from the client's close() call until the first connect() that succeeded from the TIME-WAIT port returned */
  reusedAfterMs?: number;
  /** ms from the client's close() call until the last failed connect() was called */
  lastFailAtMs?: number;
  reusedPort?: number;
  failures: Record<string, number>;
  twBefore?: number;
  twAfter?: number;
  twRecycled?: number;
  note?: string;
}

/** One cell: a client whose only local port sits in TIME-WAIT retries connect() until it works or the deadline. */
async function runCell(ctx: LabContext, cell: Cell, index: number): Promise<void> {
  let client: Netns;
  let server: Netns;
  let addr: string;
  if (cell.topo === 'loopback') {
    client = server = await createNetns(ctx, `lo-${cell.id}`);
    addr = '127.0.0.1';
  } else {
    const t = await twoHosts(ctx, { subnet: index + 1, separateServer: true, clientName: `client-${cell.id}`, serverName: `server-${cell.id}` });
    ({ client, server } = t);
    addr = t.serverAddr;
  }
  await client.sysctl('net.ipv4.tcp_tw_reuse', String(cell.reuse));
  await client.sysctl('net.ipv4.tcp_timestamps', String(cell.ts));
  if (server !== client) await server.sysctl('net.ipv4.tcp_timestamps', String(cell.ts));
  if (cell.delay !== undefined) await client.sysctl('net.ipv4.tcp_tw_reuse_delay', String(cell.delay));
  await client.sysctl('net.ipv4.ip_local_port_range', `${CLIENT_PORT} ${CLIENT_PORT}`);
  const listener = await listenIn(server, { host: addr === '127.0.0.1' ? addr : '0.0.0.0', port: SERVER_PORT, reuseaddr: true });
  ctx.defer(() => listener.close());
  const open: net.Socket[] = [];
  ctx.defer(() => open.forEach((s) => s.destroy()));

  const first = await connectFrom(client, SERVER_PORT, addr);
  const closedAt = Date.now(); // when close() was called: TIME-WAIT (tw_entry_stamp) starts a little later
  await closeActively(first);
  cell.closeMs = Date.now() - closedAt;
  const tws = await ctx.waitForSockets(`TIME-WAIT on ${client.name}:${CLIENT_PORT}`, { localPort: CLIENT_PORT, state: 'TIME-WAIT' }, { host: client.host });
  const [tw] = tws;
  cell.twBefore = tws.length;
  const before = await countersOf(client);
  while (Date.now() - closedAt < cell.deadlineMs && !ctx.signal.aborted) {
    const attemptAt = Date.now() - closedAt;
    try {
      const s = await connectFrom(client, SERVER_PORT, addr);
      open.push(s);
      cell.reusedAfterMs = Date.now() - closedAt;
      cell.reusedPort = s.localPort;
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      cell.failures[code] = (cell.failures[code] ?? 0) + 1;
      cell.lastFailAtMs = attemptAt;
    }
    await sleep(POLL_MS);
  }
  const after = await countersOf(client);
  cell.twRecycled = counterDelta(before, after, ['TcpExt.TWRecycled'])['TcpExt.TWRecycled'];
  const snap = await ctx.snapshot(`${cell.id}: end`, { host: client.host, focus: { localPort: CLIENT_PORT } });
  cell.twAfter = filterSockets(snap.sockets, { localPort: CLIENT_PORT, state: 'TIME-WAIT' }).length;
  ctx.event(
    'cell',
    `${cell.id}: ${cell.reusedAfterMs !== undefined ? `connect() reused port ${cell.reusedPort} ${cell.reusedAfterMs} ms after close()` : `no reuse within ${cell.deadlineMs} ms`} ` +
      `(failures: ${JSON.stringify(cell.failures)}; TIME-WAIT timer was ${tw.timer?.raw ?? '?'}; TWRecycled +${cell.twRecycled})`,
    { ...cell },
    client.host,
  );
}

/** A server whose own port holds TIME-WAIT (it closed first) tries to listen again without SO_REUSEADDR. */
async function serverSide(ctx: LabContext, waitMs: number): Promise<{ results: string[]; twSeen: number; reuse: string }> {
  const ns = await createNetns(ctx, 'server-side');
  await ns.sysctl('net.ipv4.tcp_tw_reuse', '1');
  await ns.sysctl('net.ipv4.tcp_timestamps', '1');
  const port = 8090;
  const listener = await listenIn(ns, { host: '127.0.0.1', port, reuseaddr: false });
  const c = await connectFrom(ns, port, '127.0.0.1');
  const accepted = await listener.nextConnection();
  await closeActively(accepted);
  c.destroy();
  await listener.close();
  const tws = await ctx.waitForSockets('TIME-WAIT on the server port', { localPort: port, state: 'TIME-WAIT' }, { host: ns.host, label: 'server-side: TIME-WAIT on the listening port' });
  const start = Date.now();
  const results: string[] = [];
  while (Date.now() - start < waitMs) {
    const a = ns.within(() => tryListen({ host: '127.0.0.1', port }));
    results.push(a.bind === 'ok' && a.listen === 'ok' ? 'ok' : a.bind !== 'ok' ? a.bind : a.listen);
    if (a.fd !== undefined) {
      closeFd(a.fd);
      break;
    }
    await sleep(250);
  }
  ctx.event('bind', `server-side, tcp_tw_reuse=1: bind ${port} without SO_REUSEADDR while it holds TIME-WAIT, tried for ${Date.now() - start} ms: ${results.join(', ')}`, { results }, ns.host);
  return { results, twSeen: tws.length, reuse: ns.readSysctl('net.ipv4.tcp_tw_reuse') };
}

/**
 * Is a cell's switch from failing to reusing consistent with a reuse delay of `d` ms? TIME-WAIT began between
 * close() and the end of the close handshake, so a failure at time t means t - closeMs <= d, and a success
 * returned at t means t >= d (both clocks count whole milliseconds: 1 ms either way).
 */
const brackets = (c: Cell, d: number) =>
  c.reusedAfterMs !== undefined && c.reusedAfterMs >= d - 1 && (c.lastFailAtMs === undefined || c.lastFailAtMs - c.closeMs! <= d + 1);
const switchText = (c: Cell) =>
  c.reusedAfterMs === undefined ? 'no reuse' : `last failure called ${c.lastFailAtMs ?? '-'} ms after close() (close took ${c.closeMs} ms), first success returned at ${c.reusedAfterMs} ms`;

const fmt = (c?: Cell) =>
  !c ? 'not run' : c.reusedAfterMs !== undefined ? `reused after ${(c.reusedAfterMs / 1000).toFixed(2)} s` : `no reuse in ${(c.deadlineMs / 1000).toFixed(1)} s (${Object.keys(c.failures).join('/') || '-'})`;

export default defineLab({
  name: 'tw-reuse',
  title: 'tcp_tw_reuse: when connect() may take a port still in TIME-WAIT',
  description:
    'Each cell gets its own namespaces (so its sysctls are its own and all cells run at once): a client whose ' +
    'ip_local_port_range is a single port connects, closes first (its port goes to TIME-WAIT) and retries ' +
    'connect() every 50 ms until it succeeds or the deadline passes. Cells: tcp_tw_reuse 0/1/2 x tcp_timestamps ' +
    '0/1 x loopback (127.0.0.1 in one namespace) / two hosts (veth). Extra cells vary tcp_tw_reuse_delay. A last ' +
    'check has a server that closed first (TIME-WAIT on its own listening port) try to listen again with ' +
    'tcp_tw_reuse=1 and no SO_REUSEADDR.',
  claims: [
    {
      id: 'reuse-after-1s',
      source: A000,
      statement: 'With tcp_tw_reuse=1 and tcp_timestamps=1, connect() reuses a local port whose TIME-WAIT socket is more than 1 second old.',
    },
    {
      id: 'reuse-needs-timestamps',
      source: A000,
      statement: 'tcp_tw_reuse only works together with tcp_timestamps.',
    },
    {
      id: 'reuse-client-only',
      source: A000,
      statement: 'tcp_tw_reuse only helps the side that calls connect() (the client); it does nothing for a server.',
    },
    {
      id: 'tw-reuse-remedy',
      source: A002,
      statement: 'Setting tcp_tw_reuse=1 lets TIME-WAIT sockets be reused for new connections; the default is 0 (off).',
    },
  ],
  options: {
    delays: { type: 'number', array: true, min: 0, max: 10000, default: ['200', '2500'], describe: 'extra tcp_tw_reuse_delay values (ms) to measure (two hosts, reuse=1, timestamps=1)' },
    deadline: { type: 'number', min: 500, max: 20000, default: 2500, describe: 'how long a matrix cell retries connect() (ms)' },
  },
  async run(ctx: LabContext) {
    const delays = ctx.options.delays as number[];
    const deadline = ctx.options.deadline as number;
    const hasDelay = hasSysctl('net.ipv4.tcp_tw_reuse_delay');
    const defaults = {
      reuse: readSysctl('net.ipv4.tcp_tw_reuse'),
      delay: hasDelay ? readSysctl('net.ipv4.tcp_tw_reuse_delay') : undefined,
      ts: readSysctl('net.ipv4.tcp_timestamps'),
    };
    ctx.event(
      'sysctl',
      `defaults of a fresh namespace: tcp_tw_reuse=${defaults.reuse}, tcp_tw_reuse_delay=${defaults.delay !== undefined ? `${defaults.delay} ms` : 'absent'}, tcp_timestamps=${defaults.ts}`,
      defaults,
    );
    if (!hasDelay && delays.length) ctx.note(`this kernel has no tcp_tw_reuse_delay: the ${delays.join(', ')} ms cells are left out`);
    const cells: Cell[] = [];
    for (const topo of ['loopback', 'two-host'] as const) {
      for (const reuse of [0, 1, 2]) for (const ts of [0, 1]) cells.push({ id: `${topo}-r${reuse}-t${ts}`, topo, reuse, ts, deadlineMs: deadline, failures: {} });
    }
    for (const d of hasDelay ? delays : []) cells.push({ id: `two-host-r1-t1-d${d}`, topo: 'two-host', reuse: 1, ts: 1, delay: d, deadlineMs: d + 1500, failures: {} });

    ctx.step(`run ${cells.length} cells at once, each in its own namespaces, plus the server-side check`);
    const [, server] = await Promise.all([Promise.all(cells.map((c, i) => runCell(ctx, c, i))), serverSide(ctx, 2000)]);

    const cell = (topo: Topo, reuse: number, ts: number) => cells.find((c) => c.topo === topo && c.reuse === reuse && c.ts === ts && c.delay === undefined);
    ctx.table({
      title: `connect() from a single local port held by TIME-WAIT (retry every ${POLL_MS} ms)`,
      columns: ['topology', 'tcp_tw_reuse', 'tcp_timestamps=0', 'tcp_timestamps=1'],
      rows: (['loopback', 'two-host'] as const).flatMap((topo) => [0, 1, 2].map((r) => [topo, String(r), fmt(cell(topo, r, 0)), fmt(cell(topo, r, 1))])),
      note: `Failures are connect() errnos while the port was held. Default tcp_tw_reuse_delay = ${defaults.delay ?? 'absent (fixed 1000)'} ms.`,
    });
    const delayCells = [cell('two-host', 1, 1), ...cells.filter((c) => c.delay !== undefined)].filter((c): c is Cell => !!c);
    ctx.table({
      title: 'tcp_tw_reuse_delay (two hosts, tcp_tw_reuse=1, tcp_timestamps=1)',
      columns: ['tcp_tw_reuse_delay', 'first successful connect()', 'when it switched'],
      rows: delayCells.map((c) => [`${c.delay ?? `${defaults.delay ?? 'no sysctl'} (default)`} ms`, fmt(c), switchText(c)]),
    });

    // --- verdicts ---------------------------------------------------------------------------------
    const main = cell('two-host', 1, 1);
    const reused = cells.filter((c) => c.reusedAfterMs !== undefined);
    const extra = cells.filter((c) => c.delay !== undefined);
    if (!main) {
      ctx.verdict('reuse-after-1s', 'inconclusive', 'the two-host cell with tcp_tw_reuse=1 and timestamps on did not run');
    } else if (main.reusedAfterMs === undefined) {
      ctx.verdict('reuse-after-1s', 'refuted', `With tcp_tw_reuse=1 and timestamps on, two hosts: ${fmt(main)} (failures: ${JSON.stringify(main.failures)}).`);
    } else {
      const at1s = brackets(main, 1000);
      const tracks = extra.filter((c) => brackets(c, c.delay!));
      ctx.verdict(
        'reuse-after-1s',
        at1s && tracks.length === extra.length ? 'confirmed' : 'partly',
        `Two hosts, tcp_tw_reuse=1, timestamps on: the TIME-WAIT port was reused ${main.reusedAfterMs} ms after close() was called (${switchText(main)}; failures before: ${JSON.stringify(main.failures)}), ` +
          `${at1s ? 'so reuse began at 1 s' : 'which does not bracket 1 s'}. ` +
          (defaults.delay !== undefined
            ? `The delay is tcp_tw_reuse_delay (default ${defaults.delay} ms), a sysctl on this kernel: ${extra.map((c) => `${c.delay} ms -> ${fmt(c)} (${brackets(c, c.delay!) ? 'brackets it' : `does not bracket it: ${switchText(c)}`})`).join('; ') || 'no other value tried'}.`
            : 'This kernel has no tcp_tw_reuse_delay sysctl.'),
      );
    }
    const noTs = cells.filter((c) => c.ts === 0 && c.reuse !== 0);
    const withTsOk = cells.filter((c) => c.ts === 1 && c.reusedAfterMs !== undefined);
    if (noTs.some((c) => c.reusedAfterMs !== undefined)) {
      ctx.verdict('reuse-needs-timestamps', 'refuted', `Reuse happened without timestamps: ${noTs.filter((c) => c.reusedAfterMs !== undefined).map((c) => `${c.id} ${fmt(c)}`).join('; ')}.`);
    } else if (withTsOk.length === 0) {
      ctx.verdict('reuse-needs-timestamps', 'inconclusive', 'no cell reused a port even with timestamps on, so the comparison says nothing');
    } else {
      ctx.verdict(
        'reuse-needs-timestamps',
        'confirmed',
        `With tcp_timestamps=0 no cell reused the port (${noTs.map((c) => `${c.id}: ${fmt(c)}`).join('; ')}); with timestamps on: ${withTsOk.map((c) => `${c.id}: ${fmt(c)}`).join('; ')}. ` +
          'The kernel reuses a TIME-WAIT pair only if the old connection recorded the peer\'s timestamps (tcp_twsk_unique), so PAWS can tell old segments from new.',
      );
    }
    {
      const blocked = server.results.length > 0 && server.results.every((r) => r !== 'ok');
      const text =
        `A server that closed first holds TIME-WAIT on its own port 8090 (${server.twSeen} seen); with tcp_tw_reuse=${server.reuse} and no SO_REUSEADDR, listening there again gave: ${server.results.join(', ')} over 2 s. ` +
        `On the client side the same sysctl made connect() reuse a TIME-WAIT port in ${reused.length} cell(s). tcp_tw_reuse is consulted only when connect() picks a local port (the TIME-WAIT 4-tuple check); bind() and the server's accepting side never look at it.`;
      ctx.verdict('reuse-client-only', blocked && reused.length > 0 ? 'confirmed' : 'inconclusive', text);
    }
    {
      const r1 = cells.filter((c) => c.reuse === 1 && c.ts === 1 && c.delay === undefined);
      const r2lo = cell('loopback', 2, 1);
      const r2two = cell('two-host', 2, 1);
      const works = r1.every((c) => c.reusedAfterMs !== undefined);
      const text =
        `tcp_tw_reuse=1 with timestamps: ${r1.map((c) => `${c.topo} ${fmt(c)}`).join('; ')}. The default here is ${defaults.reuse}${defaults.reuse === '0' ? ' (off), as the article says' : ', not 0'}` +
        `${defaults.reuse === '2' ? ` (2 = loopback only: loopback ${fmt(r2lo)}, two hosts ${fmt(r2two)})` : ''}. It only ever reuses for an outgoing connect(), after ${defaults.delay !== undefined ? 'tcp_tw_reuse_delay' : '1 s'}, and only with timestamps.`;
      ctx.verdict('tw-reuse-remedy', !works ? 'refuted' : defaults.reuse === '0' ? 'confirmed' : 'partly', text);
    }
  },
});
