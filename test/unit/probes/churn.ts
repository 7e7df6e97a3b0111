// Run in a fresh sandbox by test/unit/churn.test.ts: the churn fixture in its variants, each followed by what
// ss then shows on its port (states per side), so the test can hold the churn to what it promises.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readSockets } from '../../../harness/evidence/read.ts';
import { counterDelta, formatDelta, LOSS_COUNTERS, readCounters } from '../../../harness/kernel/counters.ts';
import { portOf, type SockRecord } from '../../../harness/evidence/ss.ts';
import { localHost } from '../../../harness/kernel/host.ts';
import { listen } from '../../../harness/kernel/sockets.ts';
import { twoHosts } from '../../../harness/kernel/topology.ts';
import { listenIn } from '../../../harness/kernel/topology-sockets.ts';
import { LabContext } from '../../../harness/lab/context.ts';
import { churn, type ChurnOptions } from '../../../harness/lab/fixtures.ts';

execFileSync('ip', ['link', 'set', 'lo', 'up']);
writeFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', '0');
const host = localHost('sandbox');

/** states of the sockets on `port`, by which end holds the port */
const sides = (all: SockRecord[], port: number) => {
  const out: Record<string, number> = {};
  for (const s of all) {
    const side = portOf(s.local) === port ? 'server' : portOf(s.peer) === port ? 'client' : undefined;
    if (side) out[`${side} ${s.state}`] = (out[`${side} ${s.state}`] ?? 0) + 1;
  }
  return out;
};

async function variant(name: string, port: number, n: number, o: ChurnOptions) {
  const l = await listen({ host: '127.0.0.1', port, backlog: 1024 });
  let ticks = 0;
  const tick = setInterval(() => ticks++, 1);
  const before = await readCounters();
  const r = await churn(l, n, o);
  clearInterval(tick);
  const found = sides(await readSockets(host), port);
  // what the kernel counted meanwhile, for a test that fails (once, 2999 of 3000 client TIME-WAIT sockets were listed)
  const moved = formatDelta(counterDelta(before, await readCounters(), LOSS_COUNTERS));
  return { name, ports: r.ports.length, distinct: new Set(r.ports).size, failure: r.failure, ms: r.ms, ticks, sides: found, moved };
}

const results = [];
results.push(await variant('client closes', 7001, 3000, { closer: 'client' }));
results.push(await variant('server closes, 7 in flight, request and response', 7002, 300, { closer: 'server', inFlight: 7, request: 'GET / HTTP/1.1\r\n\r\n', response: Buffer.alloc(5000, 0x61) }));
results.push(await variant('client closes after a response', 7003, 50, { closer: 'client', request: 'ping', response: 'pong' }));
writeFileSync('/proc/sys/net/ipv4/ip_local_port_range', '40000 40009');
results.push(await variant('until connect fails, 10 ports', 7004, 20, { closer: 'client', untilConnectFails: true }));
writeFileSync('/proc/sys/net/ipv4/ip_local_port_range', '32768 60999');
let interrupted = '';
try {
  const ac = new AbortController();
  ac.abort();
  await churn(await listen({ host: '127.0.0.1', port: 7005 }), 10, { signal: ac.signal });
} catch (e) {
  interrupted = `${(e as Error).name}: ${(e as Error).message}`;
}
// from another namespace, over veth
const ctx = new LabContext(host, new AbortController().signal, () => {});
const topo = await twoHosts(ctx);
const l = await listenIn(topo.server, { host: '0.0.0.0', port: 7006, backlog: 1024 });
const r = await churn(l, 100, { closer: 'server', inFlight: 16, from: topo.client, host: topo.serverAddr, request: 'hi', response: 'ok' });
const twoHost = { ports: r.ports.length, distinct: new Set(r.ports).size, server: sides(await readSockets(topo.server.host), 7006), client: sides(await readSockets(topo.client.host), 7006) };
await ctx.runTeardown();
process.stdout.write(`${JSON.stringify({ results, interrupted, twoHost })}\n`, () => process.exit(0));
