// Short connections that the client closes first: do they use up its local ports, and how does connect() fail?
import type net from 'node:net';
import { A000, A001, all, because, churn, connectFrom, defineLab, fig, filterSockets, int, is, listenIn, need, portOf, twoHosts, yes } from '../harness/index.ts';

const LOW = 40000;

export default defineLab({
  title: "Short connections exhaust the client's local ports",
  setup:
    "Two hosts (client and server namespaces joined by veth); the client's ip_local_port_range is narrowed to a few " +
    'ports. The client opens short connections to one server port and closes each first, so every local port it ' +
    'used sits in TIME-WAIT, until connect() fails. Then it connects to a second server port from the same ' +
    'exhausted range. The default range of a fresh namespace is read first.',
  claims: {
    'exhaustion-connect-fails': [A001, 'A client that makes short connections and closes them itself fills its local ports with TIME-WAIT; once they are used up, connect() fails with "address already in use".'],
    'default-port-range': [A000, 'Linux hands out local ports from ip_local_port_range, 32768-60999 by default.'],
  },
  options: { ports: int(2, 200, 8, 'size of the narrowed ip_local_port_range on the client', 'ports') },
  async run(ctx, o) {
    const { client, server, serverAddr } = await twoHosts(ctx);
    const defaultRange = client.readSysctl('net.ipv4.ip_local_port_range').replace(/\s+/g, ' ');
    await client.sysctl('net.ipv4.ip_local_port_range', `${LOW} ${LOW + o.ports - 1}`);
    const [first, second] = [ctx.port(), ctx.port()];
    const listeners = [];
    for (const port of [first, second]) { const l = await listenIn(server, { host: '0.0.0.0', port, reuseaddr: true }); ctx.defer(() => l.close()); listeners.push(l); }
    const dial = (port: number) => connectFrom(client, port, serverAddr).then((s) => ({ s, result: 'ok' }), (e: NodeJS.ErrnoException) => ({ s: undefined as net.Socket | undefined, result: e.code ?? String(e) }));
    ctx.step(`open short connections to ${serverAddr}:${first}, each closed first by the client, until connect() fails`);
    // each one's closer has read the server's FIN when churn returns: every port it used is in TIME-WAIT
    const { ports: used, failure } = await churn(listeners[0], o.ports + 5, { closer: 'client', from: client, host: serverAddr, untilConnectFails: true, signal: ctx.signal });
    if (failure) ctx.event('errno', `connect #${used.length + 1} to :${first}: ${failure}`, { result: failure }, client.host);
    const snap = await ctx.snapshot('client: ports exhausted', { host: client.host, focus: { peerPort: first } });
    const inTw = filterSockets(snap.sockets, { peerPort: first, state: 'TIME-WAIT' }).map((s) => portOf(s.local));
    ctx.step(`connect to another destination (:${second}) from the same range`);
    const other = [];
    for (let i = 0; i < Math.min(o.ports, 3); i++) {
      const { s, result } = await dial(second);
      if (s) ctx.defer(() => s.destroy());
      other.push({ result, localPort: s?.localPort, inTimeWait: s ? inTw.includes(s.localPort!) : false });
    }
    await ctx.snapshot('client: after connecting to the second port', { host: client.host });
    return { defaultRange, size: o.ports, used, failure, allInTimeWait: used.every((p) => inTw.includes(p)), other };
  },
  judge: (ev) => ({
    'exhaustion-connect-fails': because(all(
      need(`the whole range (${ev.size} ports) was used and every port was in TIME-WAIT when connect() failed`, ev.used.length >= ev.size && ev.allInTimeWait, `${ev.used.length} ports used${ev.allInTimeWait ? '' : ', some not in TIME-WAIT'}`),
      yes(`connect() failed after ${ev.used.length} short connections with a range of ${ev.size} ports`, ev.failure !== undefined),
      is('the errno connect() failed with', ev.failure ?? 'none', 'EADDRINUSE'),
    ), `To another destination from the same range, ${ev.other.filter((a) => a.result === 'ok').length}/${ev.other.length} connect() calls succeeded, ${ev.other.filter((a) => a.inTimeWait).length} of them from ports in TIME-WAIT toward the first.`),
    'default-port-range': is('ip_local_port_range of a fresh namespace', ev.defaultRange, '32768 60999'),
  }),
  tables: (ev) => [{
    title: `Client with ${ev.size} local ports (${LOW}-${LOW + ev.size - 1})`,
    columns: ['destination', 'connections that worked', 'then'],
    rows: [['first server port', `${ev.used.length} (ports ${ev.used.join(', ')})`, ev.failure ?? 'no failure'], ['second server port', `${ev.other.filter((a) => a.result === 'ok').length} of ${ev.other.length}`, ev.other.map((a) => `${a.result}${a.localPort ? ` from ${a.localPort}` : ''}`).join(', ')]],
    note: `Default range of a fresh namespace: ${fig(ev.defaultRange)}.`,
  }],
});
