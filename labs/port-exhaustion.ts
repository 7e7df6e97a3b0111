// Tests: short connections from one client host leave TIME-WAIT sockets that use up its local ports until
// connect() fails; which errno it fails with; whether the same ports still reach another destination; and
// how many local ports the default range gives.
import type net from 'node:net';
import { A000, A001 } from '../harness/lab/articles.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { defineLab } from '../harness/lab/define.ts';
import { closeActively, type Listener } from '../harness/kernel/sockets.ts';
import { portOf } from '../harness/evidence/ss.ts';
import { connectFrom, listenIn } from '../harness/kernel/topology-sockets.ts';
import { twoHosts } from '../harness/kernel/topology.ts';

const LOW = 40000;
/** the errnos connect() gives when no local port is left for the destination */
const EXHAUSTED = ['EADDRNOTAVAIL', 'EADDRINUSE'];

interface Attempt {
  i: number;
  to: string;
  result: string;
  localPort?: number;
}

export default defineLab({
  name: 'port-exhaustion',
  title: 'Short connections exhaust the client\'s local ports',
  description:
    'On a two-host topology (client and server namespaces joined by veth), the client\'s ip_local_port_range ' +
    'is narrowed to a few ports. The client opens short connections to one server port and closes each first, ' +
    'so every local port it used sits in TIME-WAIT, until connect() fails. Then it connects to a second server ' +
    'port with the same (exhausted) local ports. The default range of a fresh namespace is read first.',
  claims: [
    {
      id: 'exhaustion-connect-fails',
      source: A001,
      statement: 'A client making short connections and closing them itself fills its local ports with TIME-WAIT; once they are used up, connect() fails with "address already in use".',
    },
    {
      id: 'default-port-range',
      source: A000,
      statement: 'Linux hands out local ports from ip_local_port_range, 32768-60999 by default.',
    },
  ],
  options: {
    ports: { type: 'number', min: 2, max: 200, default: 8, describe: 'size of the narrowed ip_local_port_range on the client' },
  },
  async run(ctx: LabContext) {
    const size = ctx.options.ports as number;
    const topo = await twoHosts(ctx);
    const { client, server, serverAddr } = topo;
    const defaultRange = client.readSysctl('net.ipv4.ip_local_port_range');
    const [dLow, dHigh] = defaultRange.split(' ').map(Number);
    ctx.event('sysctl', `default ip_local_port_range of a fresh namespace: ${defaultRange} (${dHigh - dLow + 1} ports)`, { defaultRange }, client.host);
    await client.sysctl('net.ipv4.ip_local_port_range', `${LOW} ${LOW + size - 1}`);
    const twReuse = client.readSysctl('net.ipv4.tcp_tw_reuse');

    const listeners: Listener[] = [];
    for (const port of [8080, 8081]) {
      const l = await listenIn(server, { host: '0.0.0.0', port, reuseaddr: true });
      listeners.push(l);
      ctx.defer(() => l.close());
    }
    const open: net.Socket[] = [];
    ctx.defer(() => open.forEach((s) => s.destroy()));

    ctx.step(`open short connections to ${serverAddr}:8080, each closed first by the client, until connect() fails`);
    const attempts: Attempt[] = [];
    let failure: Attempt | undefined;
    for (let i = 1; i <= size + 4 && !failure; i++) {
      let s: net.Socket;
      try {
        s = await connectFrom(client, 8080, serverAddr);
      } catch (err) {
        failure = { i, to: ':8080', result: (err as NodeJS.ErrnoException).code ?? String(err) };
        attempts.push(failure);
        ctx.event('errno', `connect #${i} to ${serverAddr}:8080 failed: ${failure.result}`, { ...failure }, client.host);
        break;
      }
      const a: Attempt = { i, to: ':8080', result: 'ok', localPort: s.localPort };
      attempts.push(a);
      ctx.event('connect', `connect #${i} to ${serverAddr}:8080: ok from local port ${a.localPort}`, { ...a }, client.host);
      // a failure to close or to see TIME-WAIT is the lab's own error, not a connect() errno
      await closeActively(s);
      await ctx.waitForSockets(`TIME-WAIT on client port ${a.localPort}`, { localPort: a.localPort, state: 'TIME-WAIT' }, { host: client.host });
    }
    const exhausted = await ctx.snapshot('client: ports exhausted', { host: client.host, focus: { peerPort: 8080 } });
    const twToFirst = filterSockets(exhausted.sockets, { peerPort: 8080, state: 'TIME-WAIT' });

    ctx.step('connect to a different destination (server port 8081) from the same exhausted range');
    const other: Attempt[] = [];
    for (let i = 1; i <= Math.min(size, 3); i++) {
      try {
        const s = await connectFrom(client, 8081, serverAddr);
        open.push(s);
        other.push({ i, to: ':8081', result: 'ok', localPort: s.localPort });
      } catch (err) {
        other.push({ i, to: ':8081', result: (err as NodeJS.ErrnoException).code ?? String(err) });
      }
      ctx.event('connect', `connect #${i} to ${serverAddr}:8081: ${other.at(-1)!.result}${other.at(-1)!.localPort ? ` from local port ${other.at(-1)!.localPort}` : ''}`, { ...other.at(-1)! }, client.host);
    }
    const after = await ctx.snapshot('client: after connecting to :8081', { host: client.host });
    const twPorts = new Set(twToFirst.map((s) => portOf(s.local)));
    const sharedPorts = other.filter((a) => a.localPort !== undefined && twPorts.has(a.localPort));

    ctx.table({
      title: `Client with ip_local_port_range ${LOW}-${LOW + size - 1} (${size} ports), tcp_tw_reuse=${twReuse}`,
      columns: ['#', 'destination', 'connect()', 'local port'],
      rows: [...attempts, ...other].map((a) => [String(a.i), `${serverAddr}${a.to}`, a.result, a.localPort !== undefined ? String(a.localPort) : '-']),
    });

    const okFirst = attempts.filter((a) => a.result === 'ok').length;
    const otherOk = other.filter((a) => a.result === 'ok').length;
    const notInTw = attempts.filter((a) => a.result === 'ok' && !twPorts.has(a.localPort!)).map((a) => a.localPort);
    const twSeen = `${twToFirst.length} client ports in TIME-WAIT toward :8080 in the snapshot, range of ${size}`;
    if (!failure) {
      ctx.verdict('exhaustion-connect-fails', 'refuted', `${okFirst} connections to the same destination all succeeded with only ${size} local ports (tcp_tw_reuse=${twReuse}; ${twSeen}).`);
    } else if (!EXHAUSTED.includes(failure.result)) {
      ctx.verdict(
        'exhaustion-connect-fails',
        'inconclusive',
        `After ${okFirst} short connections to ${serverAddr}:8080 (${twSeen}), connect #${failure.i} failed with ${failure.result}, ` +
          `which is not a local-port errno (${EXHAUSTED.join(' or ')}): this run did not show exhaustion.`,
      );
    } else if (notInTw.length) {
      ctx.verdict(
        'exhaustion-connect-fails',
        'inconclusive',
        `connect #${failure.i} failed with ${failure.result} after ${okFirst} short connections, but ports ${notInTw.join(', ')} of theirs were not in TIME-WAIT in the snapshot, ` +
          'so this run does not show that TIME-WAIT used them up.',
      );
    } else {
      const text =
        `After ${okFirst} short connections to ${serverAddr}:8080 (${twSeen}), ` +
        `connect #${failure.i} failed with ${failure.result}${failure.result === 'EADDRNOTAVAIL' ? ' ("cannot assign requested address", not "address already in use")' : ''}. ` +
        `To another destination (${serverAddr}:8081) ${otherOk}/${other.length} connect()s succeeded, ${sharedPorts.length} of them from local ports still in TIME-WAIT toward :8080 ` +
        `(${sharedPorts.map((a) => a.localPort).join(', ') || 'none'})${sharedPorts.length ? ': a port is only used up per destination (the 4-tuple must be unique), not machine-wide' : ''}. ` +
        `${after.sockets.length} sockets on the client afterwards.`;
      ctx.verdict('exhaustion-connect-fails', failure.result === 'EADDRINUSE' && otherOk === 0 ? 'confirmed' : 'partly', text);
    }
    const isDefault = dLow === 32768 && dHigh === 60999;
    ctx.verdict(
      'default-port-range',
      isDefault ? 'confirmed' : 'refuted',
      `A fresh network namespace starts with ip_local_port_range = ${defaultRange}: ${dHigh - dLow + 1} ports per destination ` +
        `(article 001's "about 60 thousand" overstates it${isDefault ? '' : '; this kernel differs from the article\'s range'}).`,
    );
  },
});
