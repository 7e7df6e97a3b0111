// What does a TIME-WAIT socket cost, in kernel memory and in ports, next to a full socket?
import { readFileSync } from 'node:fs';
import { A000, LOOPBACK, all, atMost, because, churn, defineLab, fig, filterSockets, int, listen, need, portOf } from '../harness/index.ts';

/** active objects and object size of a slab cache (/proc/slabinfo; readable inside the sandbox) */
const slab = (name: string) => {
  const f = readFileSync('/proc/slabinfo', 'utf8').split('\n').find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/);
  return f ? { active: Number(f[1]), size: Number(f[3]) } : undefined;
};

export default defineLab({
  title: 'What a TIME-WAIT socket costs in kernel memory, next to a full socket',
  setup:
    'N connections are closed by the server first (TIME-WAIT on the server) and N more by the client first (TIME-WAIT ' +
    'on the client). The kernel slab caches (/proc/slabinfo) are read before and after: a TIME-WAIT socket is an ' +
    'object of the tw_sock_TCP cache, a live connection one of the TCP cache. ss shows which local ports they hold.',
  claims: {
    'time-wait-lightweight': [A000, 'A TIME_WAIT socket is a lightweight structure, far smaller than a full socket.'],
  },
  options: { n: int(100, 10000, 2000, 'connections per side', 'connections') },
  async run(ctx, o) {
    const before = { tw: slab('tw_sock_TCP'), tcp: slab('TCP') };
    ctx.step(`${o.n} connections closed by the server, ${o.n} by the client`);
    // each closer has read its peer's FIN when churn returns: all n are in TIME-WAIT
    const fill = async (closer: 'client' | 'server') => {
      const l = await listen({ host: LOOPBACK, port: ctx.port() });
      ctx.defer(() => l.close());
      await churn(l, o.n, { closer, signal: ctx.signal });
      return { port: l.attempt.port };
    };
    const server = await fill('server');
    const client = await fill('client');
    const after = { tw: slab('tw_sock_TCP'), tcp: slab('TCP') };
    const snap = await ctx.snapshot('TIME-WAIT on both sides', { focus: { state: 'TIME-WAIT' } });
    const ports = (xs: typeof snap.sockets) => new Set(xs.map((s) => portOf(s.local))).size;
    return {
      n: o.n, twSize: after.tw?.size, tcpSize: after.tcp?.size, twObjectsAdded: after.tw && before.tw ? after.tw.active - before.tw.active : undefined,
      serverTw: filterSockets(snap.sockets, { localPort: server.port, state: 'TIME-WAIT' }).length, serverLocalPorts: ports(filterSockets(snap.sockets, { localPort: server.port, state: 'TIME-WAIT' })),
      clientTw: filterSockets(snap.sockets, { peerPort: client.port, state: 'TIME-WAIT' }).length, clientLocalPorts: ports(filterSockets(snap.sockets, { peerPort: client.port, state: 'TIME-WAIT' })),
    };
  },
  judge: (ev) => ({
    // the slab counts are machine-wide (other namespaces' sockets come and go too): reported, not graded
    'time-wait-lightweight': because(all(
      need('the slab caches were readable', ev.twSize !== undefined && ev.tcpSize !== undefined, '/proc/slabinfo had no tw_sock_TCP or TCP cache'),
      atMost(`bytes per TIME-WAIT socket (tw_sock_TCP object), against ${fig(ev.tcpSize, 'bytes')} for a full TCP socket`, ev.twSize, (ev.tcpSize ?? NaN) / 4, 'bytes'),
    ), `Their kernel objects took ${ev.twSize === undefined ? '?' : Math.round((2 * ev.n * ev.twSize) / 1024)} KiB for ${2 * ev.n} TIME-WAIT sockets; ${ev.serverLocalPorts} local port(s) held by the ${ev.serverTw} server-side ones, ${ev.clientLocalPorts} by the ${ev.clientTw} client-side ones. The tw_sock_TCP cache grew by ${ev.twObjectsAdded ?? '?'} objects while ${2 * ev.n} TIME-WAIT sockets were made.`,
    ),
  }),
});
