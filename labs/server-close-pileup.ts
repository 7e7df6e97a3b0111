// Tests: with short request/response connections, TIME-WAIT piles up on whichever host closes first (one per
// connection: the server for HTTP without keep-alive, else the client), and keep-alive avoids the pile.
import type net from 'node:net';
import { census, filterSockets, formatCensus } from '../harness/census.ts';
import type { LabContext } from '../harness/context.ts';
import { defineLab } from '../harness/lab.ts';
import type { SnapshotRecord } from '../harness/result.ts';
import type { Listener } from '../harness/sockets.ts';
import { connectFrom, listenIn } from '../harness/topology-sockets.ts';
import { twoHosts, type TwoHosts } from '../harness/topology.ts';

const A001 = '001_409283d7d09adb0c.txt';
const REQUEST = 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n';
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

type Mode = 'server-closes' | 'client-closes' | 'keep-alive';
const PORTS: Record<Mode, number> = { 'server-closes': 8080, 'client-closes': 8081, 'keep-alive': 8082 };

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

interface Phase {
  mode: Mode;
  connections: number;
  ms: number;
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
      // every phase's sockets have finished their close handshake (the awaits above), so ss shows the result
      const [c, s]: SnapshotRecord[] = [
        await ctx.snapshot(`client: after ${mode}`, { host: topo.client.host, focus: { peerPort: port } }),
        await ctx.snapshot(`server: after ${mode}`, { host: topo.server.host, focus: { localPort: port } }),
      ];
      const clientOnPort = filterSockets(c.sockets, { peerPort: port });
      const serverOnPort = filterSockets(s.sockets, { localPort: port }).filter((x) => x.state !== 'LISTEN');
      const phase: Phase = {
        mode,
        connections,
        ms,
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

    const get = (m: Mode) => phases.find((p) => p.mode === m)!;
    const sc = get('server-closes');
    const cc = get('client-closes');
    const ka = get('keep-alive');
    ctx.verdict(
      'server-close-piles-on-server',
      sc.serverTw === n && sc.clientTw === 0 ? 'confirmed' : sc.serverTw > sc.clientTw ? 'partly' : 'refuted',
      `Server closing first after each of ${n} responses left ${sc.serverTw} TIME-WAIT sockets on the server's port ${PORTS['server-closes']} and ${sc.clientTw} on the client.`,
    );
    ctx.verdict(
      'client-close-piles-on-client',
      cc.clientTw === n && cc.serverTw === 0 ? 'confirmed' : cc.clientTw > cc.serverTw ? 'partly' : 'refuted',
      `Client closing first after each of ${n} responses left ${cc.clientTw} TIME-WAIT sockets on the client (one per local port it used) and ${cc.serverTw} on the server.`,
    );
    ctx.verdict(
      'keep-alive-avoids',
      ka.clientTw + ka.serverTw <= 1 && sc.serverTw + cc.clientTw > 2 ? 'confirmed' : 'refuted',
      `${n} requests over one keep-alive connection left ${ka.clientTw + ka.serverTw} TIME-WAIT socket(s) (client ${ka.clientTw}, server ${ka.serverTw}: the single close at the end) against ${sc.serverTw} and ${cc.clientTw} for one connection per request.`,
    );
  },
});
