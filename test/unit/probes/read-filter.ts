// Run in a fresh sandbox by test/unit/read.test.ts: sockets in several states on a few ports, then every
// kernel-side filtered read (readSockets with states and ports) next to the full read filtered here.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { readSockets, type ReadOptions, type StreamingHost } from '../../../harness/evidence/read.ts';
import { streamRun } from '../../../harness/kernel/stream.ts';
import { portOf, type SockRecord } from '../../../harness/evidence/ss.ts';
import { localHost } from '../../../harness/kernel/host.ts';
import { connect, listen } from '../../../harness/kernel/sockets.ts';
import { churn } from '../../../harness/lab/fixtures.ts';

execFileSync('ip', ['link', 'set', 'lo', 'up']);
const host = localHost('sandbox');
const streaming: StreamingHost = { ...host, stream: (file, args, onText) => streamRun(file, args, onText) };
const estab = await listen({ host: '127.0.0.1', port: 9000 });
const held: net.Socket[] = [];
for (let i = 0; i < 3; i++) held.push(await connect(9000, '127.0.0.1'), await estab.nextConnection());
await churn(await listen({ host: '127.0.0.1', port: 9001 }), 5, 'client');
await churn(await listen({ host: '127.0.0.1', port: 9002 }), 4, 'server');
const half = await listen({ host: '::1', port: 9003, allowHalfOpen: true });
const c = await connect(9003, '::1', { allowHalfOpen: true });
const s = await half.nextConnection();
c.end(); // client FIN-WAIT-2, server CLOSE-WAIT
await new Promise((r) => s.once('end', r));

const port = (a: string) => portOf(a);
const want = (all: SockRecord[], o: ReadOptions) =>
  all.filter((r) => (!o.states?.length || o.states.includes(r.state)) &&
    (!o.ports?.length || o.ports.some((p) => port(r.local) === p || port(r.peer) === p)) &&
    (!o.localPorts?.length || o.localPorts.includes(port(r.local) as number)) &&
    (!o.peerPorts?.length || o.peerPorts.includes(port(r.peer) as number)));
const cases: ReadOptions[] = [
  {},
  { states: ['TIME-WAIT'] },
  { states: ['TIME-WAIT'], peerPorts: [9001] },
  { states: ['TIME-WAIT'], localPorts: [9002] },
  { states: ['ESTAB', 'LISTEN'] },
  { states: ['ESTAB'], ports: [9000] },
  { ports: [9000, 9003] },
  { localPorts: [9003] },
  { states: ['CLOSE-WAIT', 'FIN-WAIT-2'] },
  { states: ['FIN-WAIT-2'], peerPorts: [9003] },
  { states: ['LISTEN'], localPorts: [9000, 9001, 9002] },
  { states: ['SYN-SENT'] },
];
const key = (r: SockRecord) => `${r.state} ${r.local} ${r.peer}`;
const all = await readSockets(host);
const results = [];
for (const o of cases) {
  const got = (await readSockets(host, o)).map(key).sort();
  const streamed = (await readSockets(streaming, o)).map(key).sort();
  results.push({ options: o, got, streamed, want: want(all, o).map(key).sort() });
}
process.stdout.write(`${JSON.stringify({ total: all.length, results })}\n`, () => process.exit(0));
