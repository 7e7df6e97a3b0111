import lab from '../../labs/fin-wait-2-timeout.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = {
  finTimeout: 3, watchedMs: 6100, goneAtMs: 3594 as number | undefined, orphanFirst: 'FIN-WAIT-2', orphanTimer: 'timer:(timewait,2.992ms,0)' as string | undefined,
  halfLast: 'FIN-WAIT-2', halfAlways: true, halfTimers: [] as string[], linger2: -1, lingerFirst: 'absent', lingerSeenFw2: false, rsts: 1,
  samples: [{ t: 0, orphan: 'FIN-WAIT-2', half: 'FIN-WAIT-2', linger: 'absent' }],
};

export default judgeCases('fin-wait-2-timeout', lab, [
  { name: 'Linux: reaped after 3.6 s, shutdown() kept with no timer, TCP_LINGER2 resets', evidence: linux, expect: { 'orphan-fin-wait-2-reaped': 'confirmed', 'shutdown-fin-wait-2-unbounded': 'confirmed', 'linger2-negative-skips': 'confirmed' } },
  {
    name: 'never reaped over a long watch, the shutdown() socket reaped too, TCP_LINGER2 waits: refuted',
    evidence: { ...linux, goneAtMs: undefined, halfAlways: false, halfLast: 'absent', halfTimers: ['timer:(timewait,0)'], lingerSeenFw2: true, lingerFirst: 'FIN-WAIT-2', rsts: 0 },
    expect: { 'orphan-fin-wait-2-reaped': 'refuted', 'shutdown-fin-wait-2-unbounded': 'refuted', 'linger2-negative-skips': 'refuted' },
    observed: { 'orphan-fin-wait-2-reaped': /still there after 6100 ms \(claim: 2400-4000 ms/ },
  },
  { name: 'reaped, but far later than tcp_fin_timeout: refuted', evidence: { ...linux, goneAtMs: 5900 }, expect: { 'orphan-fin-wait-2-reaped': 'refuted' } },
  { name: 'the shutdown() socket stayed but showed a timer: refuted (a universal claim)', evidence: { ...linux, halfTimers: ['timer:(timewait,0)'] }, expect: { 'shutdown-fin-wait-2-unbounded': 'refuted' } },
  { name: 'the shutdown() socket reaped at tcp_fin_timeout, ending the watch early: refuted, not inconclusive', evidence: { ...linux, watchedMs: 3100, halfAlways: false, halfLast: 'absent' }, expect: { 'shutdown-fin-wait-2-unbounded': 'refuted' } },
  {
    name: '--outlive 1: the watch ended at tcp_fin_timeout, before the orphan would be reaped: inconclusive (not refuted)',
    options: { outlive: 1 },
    evidence: { ...linux, watchedMs: 3050, goneAtMs: undefined },
    expect: { 'orphan-fin-wait-2-reaped': 'inconclusive', 'shutdown-fin-wait-2-unbounded': 'inconclusive' },
    observed: { 'orphan-fin-wait-2-reaped': /the watch ended 3050 ms after close\(\)/ },
  },
  { name: 'TCP_LINGER2 did not read back below zero, and no orphan: inconclusive', evidence: { ...linux, linger2: 60, orphanFirst: 'absent' }, expect: { 'linger2-negative-skips': 'inconclusive', 'orphan-fin-wait-2-reaped': 'inconclusive' } },
]);
