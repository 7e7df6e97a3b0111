import lab from '../../labs/server-close-pileup.ts';
import { judgeCases } from '../judge-cases.ts';

type P = { port: number; connections: number; clientPorts: number; ms: number; clientTw: number; serverTw: number; clientCensus: string; serverCensus: string };
const p = (connections: number, clientPorts: number, clientTw: number, serverTw: number, ms = 400): P => ({ port: 20000, connections, clientPorts, ms, clientTw, serverTw, clientCensus: '', serverCensus: '' });
const run = (sc: P | null, cc: P | null, ka: P | null) => ({
  phases: [['server-closes', sc], ['client-closes', cc], ['keep-alive', ka]].map(([mode, e]) => (e ? { mode: mode as 'server-closes', evidence: e as P } : { mode: mode as 'server-closes', error: 'no server-closes connection still closing on the client after 5000 ms' })),
});

export default judgeCases('server-close-pileup', lab, [
  { name: 'TIME-WAIT on whoever closed, one per client port; keep-alive leaves one', evidence: run(p(1000, 1000, 0, 1000), p(1000, 1000, 1000, 0), p(1, 1, 1, 0)), expect: { 'server-close-piles-on-server': 'confirmed', 'client-close-piles-on-client': 'confirmed', 'keep-alive-avoids': 'confirmed' } },
  {
    name: '6000 connections from 5374 ports: one TIME-WAIT per distinct 4-tuple still confirms',
    evidence: run(p(6000, 5374, 0, 5374), p(6000, 6000, 6000, 0), p(1, 1, 1, 0)),
    expect: { 'server-close-piles-on-server': 'confirmed' },
    observed: { 'server-close-piles-on-server': /after 6000 connections from 5374 distinct client ports: 5374/ },
  },
  { name: 'TIME-WAIT on the other side: refuted', evidence: run(p(100, 100, 100, 0), p(100, 100, 0, 100), p(1, 1, 40, 40)), expect: { 'server-close-piles-on-server': 'refuted', 'client-close-piles-on-client': 'refuted', 'keep-alive-avoids': 'refuted' } },
  { name: 'fewer than one per port on the closer, none on the other: partly', evidence: run(p(100, 100, 0, 60), p(100, 100, 100, 3), p(1, 1, 1, 0)), expect: { 'server-close-piles-on-server': 'partly', 'client-close-piles-on-client': 'partly' } },
  { name: 'a phase longer than TIME-WAIT itself: inconclusive', evidence: run(p(20000, 20000, 0, 15000, 70_000), p(100, 100, 100, 0), p(1, 1, 1, 0)), expect: { 'server-close-piles-on-server': 'inconclusive' } },
  { name: 'phases that never settled: inconclusive; nothing piled up to compare keep-alive with', evidence: run(null, null, p(1, 1, 1, 0)), expect: { 'server-close-piles-on-server': 'inconclusive', 'client-close-piles-on-client': 'inconclusive', 'keep-alive-avoids': 'inconclusive' } },
]);
