// Tests: with short request/response connections, TIME-WAIT piles up on whichever host closes first (one per
// connection: the server for HTTP without keep-alive, else the client), and keep-alive avoids the pile.
import type net from 'node:net';
import { A001 } from '../harness/lab/articles.ts';
import { census, filterSockets, formatCensus, type SockFilter } from '../harness/evidence/census.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { WaitTimeout } from '../harness/errors.ts';
import type { Host } from '../harness/kernel/host.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { portOf } from '../harness/evidence/ss.ts';
import type { Listener } from '../harness/kernel/sockets.ts';
import { connectFrom, listenIn } from '../harness/kernel/topology-sockets.ts';
import { twoHosts, type TwoHosts } from '../harness/kernel/topology.ts';

const REQUEST = 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n';
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

type Mode = 'server-closes' | 'client-closes' | 'keep-alive';
const PORTS: Record<Mode, number> = { 'server-closes': 8080, 'client-closes': 8081, 'keep-alive': 8082 };
/** states a closing connection passes through: none of them may be left on a phase's port when it is counted */
const CLOSING_STATES = new Set(['SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'LAST-ACK']);

/** A tiny "HTTP" server: answers each request; closes first only in server-closes mode. */
async function serve(topo: TwoHosts, mode: Mode): Promise<Listener> {
  const l = await listenIn(topo.server, { host: '0.0.0.0', port: PORTS[mode], reuseaddr: true, backlog: 4096 });
  l.server.on('connection', (s: net.Socket) => {
    s.on('data', () => {
      if (mode === 'server-closes') s.end(RESPONSE);
      else s.write(RESPONSE);
    });
  });
  return l;
}

/** One request on a socket: resolves when the response is in (and, for a closing side, when the socket closed). */
function request(s: net.Socket, closeAfter: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.once('data', () => {
      s.off('error', reject);
      if (!closeAfter) return resolve();
      s.once('close', () => resolve());
      s.end();
    });
    s.write(REQUEST);
  });
}

/** One short connection in server-closes or client-closes mode. */
async function shortConnection(topo: TwoHosts, mode: Mode): Promise<void> {
  const s = await connectFrom(topo.client, PORTS[mode], topo.serverAddr);
  if (mode === 'server-closes') {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.on('data', () => {});
      s.once('close', () => resolve()); // the server's FIN arrives; Node answers with ours (allowHalfOpen=false)
      s.write(REQUEST);
    });
  } else {
    await request(s, true);
  }
}

/** Run `n` tasks with at most `limit` at a time. */
async function bounded(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/**
 * Read a host's ss until no connection on the port is still closing (the last FINs may be in flight when the
 * client's 'close' fires) and record that read; if it never settles, record the last state and say so.
 */
async function settled(
  ctx: LabContext,
  host: Host,
  label: string,
  focus: SockFilter,
  onPort: (s: SnapshotRecord['sockets'][number]) => boolean,
): Promise<{ snap: SnapshotRecord; settled: boolean }> {
  const closing = (read: SnapshotRecord['sockets']) => read.filter((x) => onPort(x) && CLOSING_STATES.has(x.state));
  try {
    return { snap: await ctx.waitSs(`no closing connection left (${label})`, (read) => closing(read).length === 0, { host, label, focus, timeoutMs: 5000 }), settled: true };
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    const snap = await ctx.snapshot(label, { host, focus });
    ctx.note(`${label}: ${closing(snap.sockets).length} connection(s) still closing after 5 s: ${err.message}`);
    return { snap, settled: closing(snap.sockets).length === 0 };
  }
}

interface Phase {
  mode: Mode;
  connections: number;
  ms: number;
  /** both hosts' reads had no connection of this phase still closing */
  settled: boolean;
  clientTw: number;
  serverTw: number;
  clientCensus: string;
  serverCensus: string;
}

export default defineLab({
  name: 'server-close-pileup',
  title: 'Who closes first gets the TIME-WAIT: server close, client close, keep-alive',
  description:
    'Two hosts (client and server namespaces joined by veth). N short HTTP-like requests, one connection each, ' +
    'to a server that closes after answering (keep-alive off); N more to a server that leaves closing to the ' +
    'client; and N requests over one keep-alive connection. After each phase ss is read on both hosts and the ' +
    'TIME-WAIT sockets of that phase\'s port are counted per host.',
  claims: [
    {
      id: 'server-close-piles-on-server',
      source: A001,
      statement: 'When the server closes actively (short connections, no keep-alive), TIME-WAIT piles up on the server, one per connection.',
    },
    {
      id: 'client-close-piles-on-client',
      source: A001,
      statement: 'When the client closes actively, the TIME-WAIT sockets pile up on the client instead, one per connection.',
    },
    {
      id: 'keep-alive-avoids',
      source: A001,
      statement: 'Keep-alive (the server does not close after each response) avoids the TIME-WAIT pile-up.',
    },
  ],
  options: {
    n: { type: 'number', min: 1, max: 20000, default: 1000, describe: 'requests per phase' },
    concurrency: { type: 'number', min: 1, max: 512, default: 64, describe: 'connections in flight at once' },
  },
  async run(ctx: LabContext) {
    const n = ctx.options.n as number;
    const conc = ctx.options.concurrency as number;
    const topo = await twoHosts(ctx);
    const phases: Phase[] = [];
    const open: net.Socket[] = [];
    ctx.defer(() => open.forEach((s) => s.destroy()));

    const measure = async (mode: Mode, connections: number, t0: number) => {
      const port = PORTS[mode];
      const ms = Date.now() - t0;
      const c = await settled(ctx, topo.client.host, `client: after ${mode}`, { peerPort: port }, (x) => portOf(x.peer) === port);
      const s = await settled(ctx, topo.server.host, `server: after ${mode}`, { localPort: port }, (x) => portOf(x.local) === port);
      const clientOnPort = filterSockets(c.snap.sockets, { peerPort: port });
      const serverOnPort = filterSockets(s.snap.sockets, { localPort: port }).filter((x) => x.state !== 'LISTEN');
      const phase: Phase = {
        mode,
        connections,
        ms,
        settled: c.settled && s.settled,
        clientTw: filterSockets(clientOnPort, { state: 'TIME-WAIT' }).length,
        serverTw: filterSockets(serverOnPort, { state: 'TIME-WAIT' }).length,
        clientCensus: formatCensus(census(clientOnPort)),
        serverCensus: formatCensus(census(serverOnPort)),
      };
      phases.push(phase);
      ctx.event('census', `${mode}: ${connections} connection(s), ${n} request(s) in ${ms} ms; client (to :${port}): ${phase.clientCensus}; server (:${port}): ${phase.serverCensus}`, { ...phase });
    };

    for (const mode of ['server-closes', 'client-closes'] as const) {
      ctx.step(`${mode}: ${n} short connections, ${conc} at a time`);
      const l = await serve(topo, mode);
      ctx.defer(() => l.close());
      const t0 = Date.now();
      await bounded(n, conc, () => shortConnection(topo, mode));
      await measure(mode, n, t0);
    }

    ctx.step(`keep-alive: ${n} requests over one connection, then the client closes it`);
    const l = await serve(topo, 'keep-alive');
    ctx.defer(() => l.close());
    const t0 = Date.now();
    const s = await connectFrom(topo.client, PORTS['keep-alive'], topo.serverAddr);
    open.push(s);
    for (let i = 0; i < n; i++) await request(s, i === n - 1);
    await measure('keep-alive', 1, t0);

    ctx.table({
      title: `TIME-WAIT per host after ${n} requests per phase (two hosts, ${conc} connections in flight)`,
      columns: ['phase', 'connections', 'client TIME-WAIT', 'server TIME-WAIT', 'client census', 'server census', 'time'],
      rows: phases.map((p) => [p.mode, String(p.connections), String(p.clientTw), String(p.serverTw), p.clientCensus, p.serverCensus, `${p.ms} ms`]),
    });

    const get = (m: Mode) => phases.find((p) => p.mode === m);
    const sc = get('server-closes');
    const cc = get('client-closes');
    const ka = get('keep-alive');
    const unsettled = (p: Phase | undefined, m: Mode) => (!p ? `the ${m} phase did not run` : !p.settled ? `connections of the ${m} phase were still closing when counted` : undefined);
    const pile = (p: Phase, closer: 'server' | 'client') => {
      const [mine, other] = closer === 'server' ? [p.serverTw, p.clientTw] : [p.clientTw, p.serverTw];
      return mine === p.connections && other === 0 ? 'confirmed' : mine > other ? 'partly' : 'refuted';
    };
    {
      const why = unsettled(sc, 'server-closes');
      if (why || !sc) ctx.verdict('server-close-piles-on-server', 'inconclusive', why!);
      else {
        ctx.verdict(
          'server-close-piles-on-server',
          pile(sc, 'server'),
          `Server closing first after each of ${n} responses left ${sc.serverTw} TIME-WAIT sockets on the server's port ${PORTS['server-closes']} and ${sc.clientTw} on the client.`,
        );
      }
    }
    {
      const why = unsettled(cc, 'client-closes');
      if (why || !cc) ctx.verdict('client-close-piles-on-client', 'inconclusive', why!);
      else {
        ctx.verdict(
          'client-close-piles-on-client',
          pile(cc, 'client'),
          `Client closing first after each of ${n} responses left ${cc.clientTw} TIME-WAIT sockets on the client (one per local port it used) and ${cc.serverTw} on the server.`,
        );
      }
    }
    {
      const why = unsettled(ka, 'keep-alive') ?? unsettled(sc, 'server-closes') ?? unsettled(cc, 'client-closes');
      if (why || !ka || !sc || !cc) ctx.verdict('keep-alive-avoids', 'inconclusive', why!);
      else {
        const kaTw = ka.clientTw + ka.serverTw;
        const text =
          `${n} requests over one keep-alive connection left ${kaTw} TIME-WAIT socket(s) (client ${ka.clientTw}, server ${ka.serverTw}: the single close at the end) ` +
          `against ${sc.serverTw} (server closes) and ${cc.clientTw} (client closes) for one connection per request.`;
        // a pile to avoid: a connection-per-request phase left more TIME-WAIT than one connection can
        if (Math.max(sc.serverTw, cc.clientTw) <= 1) ctx.verdict('keep-alive-avoids', 'inconclusive', `${text} Neither comparison phase piled up TIME-WAIT, so there was nothing to avoid.`);
        else ctx.verdict('keep-alive-avoids', kaTw <= 1 ? 'confirmed' : 'refuted', text);
      }
    }
  },
});
