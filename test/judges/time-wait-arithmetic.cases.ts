import lab from '../../labs/time-wait-arithmetic.ts';
import { judgeCases } from '../judge-cases.ts';

const range = { lo: 32768, hi: 60999 };
const pile = { n: 1000, ms: 80, distinct: 1000, serverTw: 1000, maxTimerMs: 59_000, minTimerMs: 59_000 };
const lb = { ports: 16, made: 320, ms: 40, distinct: 8, mostPerPort: 48, serverTw: 8, heldOwnPorts: true, maxTimerMs: 59_000 };
const own = { made: 16, failure: 'EADDRNOTAVAIL' };

export default judgeCases('time-wait-arithmetic', lab, [
  {
    name: 'Linux: 60 s TIME-WAIT, 60,000 at 1000/s (kept), and the load balancer reuses ports held in TIME-WAIT',
    evidence: { range, maxTwBuckets: 131072, pile, lb, own },
    expect: { 'server-pile-240k': 'partly', 'lb-port-blocked-240s': 'refuted' },
    observed: {
      'server-pile-240k': /1000 x 60 s, the TIME-WAIT length measured here \(ss timer 59000-59000 ms\): 60000 \(claim: 216000-264000\)/,
      'lb-port-blocked-240s': /28232 \/ 240 s = 118 a second; with the measured 60 s: 471 a second.*failed with EADDRNOTAVAIL after 16 connections/,
    },
  },
  {
    name: 'a kernel with a 240 s TIME-WAIT that blocks each held port, and room for 240,000: both confirmed',
    evidence: {
      range, maxTwBuckets: 262144,
      pile: { ...pile, maxTimerMs: 239_000, minTimerMs: 238_000 },
      lb: { ...lb, made: 16, distinct: 16, mostPerPort: 1, serverTw: 16, ms: 5000, failure: 'ETIMEDOUT', maxTimerMs: 239_000 },
      own,
    },
    expect: { 'server-pile-240k': 'confirmed', 'lb-port-blocked-240s': 'confirmed' },
  },
  {
    name: 'a 30 s TIME-WAIT, half the closes left none, and a small tcp_max_tw_buckets: refuted',
    evidence: { range, maxTwBuckets: 4096, pile: { ...pile, serverTw: 500, maxTimerMs: 29_000, minTimerMs: 28_000 }, lb, own },
    expect: { 'server-pile-240k': 'refuted' },
  },
  {
    name: 'no TIME-WAIT seen on the server (no timers): inconclusive',
    evidence: {
      range, maxTwBuckets: 131072,
      pile: { n: 1000, ms: 80, distinct: 1000, serverTw: 0 },
      lb: { ports: 16, made: 320, ms: 40, distinct: 8, mostPerPort: 48, serverTw: 0, heldOwnPorts: true },
      own,
    },
    expect: { 'server-pile-240k': 'inconclusive', 'lb-port-blocked-240s': 'inconclusive' },
  },
  {
    name: 'the load-balancer churn outlasted the TIME-WAIT it met: inconclusive',
    evidence: { range, maxTwBuckets: 131072, pile, lb: { ...lb, ms: 61_000 }, own },
    expect: { 'lb-port-blocked-240s': 'inconclusive' },
    observed: { 'lb-port-blocked-240s': /churn 61000 ms/ },
  },
]);
