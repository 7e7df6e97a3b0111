// Short request/response connections: does TIME-WAIT pile up on whichever side closes first, and does keep-alive avoid it?
import type net from 'node:net';
import { A001, all, atMost, census, churn, connectFrom, defineLab, fig, filterSockets, formatCensus, int, is, listenIn, need, portOf, twoHosts, type SockRecord } from '../harness/index.ts';

const REQUEST = 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n';
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const MODES = ['server-closes', 'client-closes', 'keep-alive'] as const;
type Mode = (typeof MODES)[number];
const CLOSING = ['SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'LAST-ACK'] as const; // none may be left when counting

/** One request on the keep-alive connection; after the last one the client closes it (the other phases churn). */
function request(s: net.Socket, closer: 'client' | 'none'): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.once('data', () => {
      s.off('error', reject);
      if (closer === 'none') return resolve();
      s.once('close', () => resolve());
      s.end();
    });
    s.write(REQUEST);
  });
}
export default defineLab({
  title: 'Who closes first gets the TIME-WAIT: server close, client close, keep-alive',
  setup:
    'Two hosts (client and server namespaces joined by veth). N short HTTP-like requests, one connection each, to a ' +
    'server that closes after answering; N more to a server that leaves closing to the client; and N requests over ' +
    'one keep-alive connection. After each phase ss is read on both hosts until no connection of that phase is ' +
    "still closing, and its TIME-WAIT sockets are counted per host against the distinct client ports it used (a " +
    'client port used twice meets its own TIME-WAIT again, so it can leave only one).',
  claims: {
    'server-close-piles-on-server': [A001, 'When the server closes actively (short connections, no keep-alive), TIME-WAIT piles up on the server, one per connection.'],
    'client-close-piles-on-client': [A001, 'When the client closes actively, the TIME-WAIT sockets pile up on the client instead, one per connection.'],
    'keep-alive-avoids': [A001, 'Keep-alive (the server does not close after each response) avoids the TIME-WAIT pile-up.'],
  },
  options: {
    n: int(1, 20000, 1000, "requests per phase (up to 20,000: fewer than the client's 28,232 ports, and a phase well under TIME-WAIT's 60 s)", 'requests'),
    concurrency: int(1, 512, 64, 'connections in flight at once', 'connections'),
  },
  async run(ctx, o) {
    const topo = await twoHosts(ctx);
    const phases = await ctx.matrix({ mode: MODES }, async ({ mode }) => {
      ctx.step(`${mode}: ${o.n} requests${mode === 'keep-alive' ? ' over one connection' : `, one connection each, ${o.concurrency} at a time`}`);
      const port = ctx.port();
      const l = await listenIn(topo.server, { host: '0.0.0.0', port, reuseaddr: true, backlog: 4096 });
      ctx.defer(() => l.close());
      l.server.on('connection', (s: net.Socket) => s.on('data', () => s.write(RESPONSE))); // keep-alive; the churn answers the others itself
      const t0 = Date.now();
      const ports = new Set<number>();
      await ctx.sampleWhile(`${mode}: ${o.n} requests`, async () => {
        if (mode === 'keep-alive') { const s = await connectFrom(topo.client, port, topo.serverAddr); ctx.defer(() => s.destroy()); ports.add(s.localPort!); for (let i = 0; i < o.n; i++) await request(s, i === o.n - 1 ? 'client' : 'none'); }
        else for (const p of (await churn(l, o.n, { closer: mode === 'server-closes' ? 'server' : 'client', inFlight: o.concurrency, request: REQUEST, response: RESPONSE, from: topo.client, host: topo.serverAddr, signal: ctx.signal })).ports) ports.add(p);
      }, { hosts: [topo.client.host, topo.server.host] });
      const ms = Date.now() - t0;
      const onPort = (xs: SockRecord[]) => xs.filter((x) => portOf(x.local) === port || portOf(x.peer) === port).filter((x) => x.state !== 'LISTEN');
      const count = async (host: typeof topo.client.host, side: string) => onPort((await ctx.waitSs(`no ${mode} connection still closing on the ${side}`, (xs) => filterSockets(onPort(xs), { state: CLOSING }).length === 0, { host, label: `${side}: after ${mode}`, timeoutMs: 5000 })).sockets);
      const [client, server] = [await count(topo.client.host, 'client'), await count(topo.server.host, 'server')];
      const tw = (xs: SockRecord[]) => filterSockets(xs, { state: 'TIME-WAIT' }).length;
      return { port, connections: mode === 'keep-alive' ? 1 : o.n, clientPorts: ports.size, ms, clientTw: tw(client), serverTw: tw(server), clientCensus: formatCensus(census(client)), serverCensus: formatCensus(census(server)) };
    });
    return { phases };
  },
  judge: ({ phases }) => {
    const at = (m: Mode) => phases.find((p) => p.mode === m)?.evidence;
    const pile = (m: Mode, closer: 'client' | 'server') => {
      const p = at(m);
      const [mine, other] = closer === 'server' ? [p?.serverTw, p?.clientTw] : [p?.clientTw, p?.serverTw];
      return all(
        need(`the ${m} phase ended within TIME-WAIT's 60 s`, !!p && p.ms < 55_000, p ? `it took ${p.ms} ms` : 'it did not run'),
        is(`TIME-WAIT on the ${closer} after ${fig(p?.connections)} connections from ${fig(p?.clientPorts)} distinct client ports`, mine, p?.clientPorts ?? NaN),
        is(`TIME-WAIT on the ${closer === 'server' ? 'client' : 'server'}`, other, 0),
      );
    };
    const [sc, cc, ka] = MODES.map(at);
    return {
      'server-close-piles-on-server': pile('server-closes', 'server'),
      'client-close-piles-on-client': pile('client-closes', 'client'),
      'keep-alive-avoids': all(
        need('a connection-per-request phase piled up TIME-WAIT to compare with', [sc, cc].some((x) => x && x.clientTw + x.serverTw > 1), `server closes: ${sc ? sc.clientTw + sc.serverTw : '?'}, client closes: ${cc ? cc.clientTw + cc.serverTw : '?'}`),
        atMost(`TIME-WAIT after ${ka?.connections ?? '?'} keep-alive connection (client + server), against ${fig(sc && sc.clientTw + sc.serverTw)} and ${fig(cc && cc.clientTw + cc.serverTw)} with one connection per request`, ka && ka.clientTw + ka.serverTw, 1),
      ),
    };
  },
  tables: ({ phases }, o) => [{
    title: `TIME-WAIT per host after ${o.n} requests per phase (two hosts, ${o.concurrency} connections in flight)`,
    columns: ['phase', 'connections', 'distinct client ports', 'client TIME-WAIT', 'server TIME-WAIT', 'client census', 'server census', 'time'],
    rows: phases.map((p) => [p.mode, ...(p.evidence ? [p.evidence.connections, p.evidence.clientPorts, p.evidence.clientTw, p.evidence.serverTw, p.evidence.clientCensus, p.evidence.serverCensus, `${p.evidence.ms} ms`].map(String) : [p.error ?? ''])]),
  }],
});
