import lab from '../../labs/fin-wait-2-timeout.ts';
import { judgeCases } from '../judge-cases.ts';

type Range = [number, number];
// an idle host, tcp_fin_timeout = 1 s: the calls at 2393 ms, the FIN ACKed at 2395, first read 2393-2410 (timer 988 ms),
// the orphan last listed by a read that began at 3300, gone in the next (ended 3420): timer 976-1013 ms, lifetime 895-1035 ms
const linux = {
  finTimeout: 1, watchedMs: 2045, start: [2395, 2395] as Range, startFrom: 'the ACK of its FIN', seen: [2393, 2410] as Range, listed: 3300, gone: 3420 as number | undefined,
  orphanFirst: 'FIN-WAIT-2', orphanTimer: 'timer:(timewait,988ms,0)' as string | undefined, orphanTimerMs: 988 as number | undefined,
  halfLast: 'FIN-WAIT-2', halfAlways: true, halfTimers: [] as string[], linger2: -1, lingerFirst: 'absent', lingerSeenFw2: false, rsts: 1,
  samples: [{ t: 0, orphan: 'FIN-WAIT-2', half: 'FIN-WAIT-2', linger: 'absent' }],
};

export default judgeCases('fin-wait-2-timeout', lab, [
  {
    name: 'Linux: reaped when its 1 s timer ran out, shutdown() kept with no timer, TCP_LINGER2 resets',
    evidence: linux,
    expect: { 'orphan-fin-wait-2-reaped': 'confirmed', 'shutdown-fin-wait-2-unbounded': 'confirmed', 'linger2-negative-skips': 'confirmed' },
    observed: { 'orphan-fin-wait-2-reaped': /timer:\(timewait,988ms,0\) when first seen.*: 976-1013 ms; time from the ACK of its FIN until ss no longer listed it: 895-1035 ms/ },
  },
  {
    // the 6.1 guest: the first read took 1 s (timer 92 ms left), the next one came 3.5 s after the calls; close() once measured 3478 ms
    name: 'an emulated guest: slow reads widen the ranges, the verdicts stay',
    evidence: { ...linux, start: [2400, 2400], seen: [2393, 3407], orphanTimer: 'timer:(timewait,092ms,0)', orphanTimerMs: 92, listed: 2393, gone: 5871, watchedMs: 2100 },
    expect: { 'orphan-fin-wait-2-reaped': 'confirmed', 'shutdown-fin-wait-2-unbounded': 'confirmed' },
    observed: { 'orphan-fin-wait-2-reaped': /75-1109 ms; .*: 0-3481 ms/ },
  },
  {
    name: 'tcp_fin_timeout = 30: ss shows whole seconds above 10 s (29sec is 29-30 s), so the timer is known to within a second',
    options: { 'fin-timeout': 30 },
    evidence: { ...linux, finTimeout: 30, orphanTimer: 'timer:(timewait,29sec,0)', orphanTimerMs: 29_000, listed: 32_300, gone: 32_420, watchedMs: 60_100 },
    expect: { 'orphan-fin-wait-2-reaped': 'confirmed', 'shutdown-fin-wait-2-unbounded': 'confirmed' },
    observed: { 'orphan-fin-wait-2-reaped': /: 28988-30025 ms; .*: 29895-30035 ms/ },
  },
  {
    name: 'ss showed 1sec (exactly 1000 ms: below 10 s it prints the milliseconds whenever there are any)',
    evidence: { ...linux, orphanTimer: 'timer:(timewait,1sec,0)', orphanTimerMs: 1000 },
    expect: { 'orphan-fin-wait-2-reaped': 'confirmed' },
    observed: { 'orphan-fin-wait-2-reaped': /: 988-1025 ms;/ },
  },
  {
    name: 'no capture: the start is known only between close() and the first read',
    evidence: { ...linux, start: [2393, 2410], startFrom: 'close()' },
    expect: { 'orphan-fin-wait-2-reaped': 'confirmed' },
  },
  {
    name: 'never reaped over a long watch and no timer, the shutdown() socket reaped too, TCP_LINGER2 waits: refuted',
    evidence: { ...linux, gone: undefined, listed: 4500, orphanTimer: undefined, orphanTimerMs: undefined, halfAlways: false, halfLast: 'absent', halfTimers: ['timer:(timewait,0)'], lingerSeenFw2: true, lingerFirst: 'FIN-WAIT-2', rsts: 0 },
    expect: { 'orphan-fin-wait-2-reaped': 'refuted', 'shutdown-fin-wait-2-unbounded': 'refuted', 'linger2-negative-skips': 'refuted' },
    observed: { 'orphan-fin-wait-2-reaped': /no timer .*still listed 2105 ms after \(claim: a range that reaches 1000-1125 ms/ },
  },
  { name: 'a 3 s timer, reaped after 3 s: refuted', evidence: { ...linux, orphanTimer: 'timer:(timewait,2.988ms,0)', orphanTimerMs: 2988, listed: 5300, gone: 5420 }, expect: { 'orphan-fin-wait-2-reaped': 'refuted' } },
  { name: 'a 1 s timer, but reaped after 3 s: partly', evidence: { ...linux, listed: 5300, gone: 5420 }, expect: { 'orphan-fin-wait-2-reaped': 'partly' } },
  { name: 'the shutdown() socket stayed but showed a timer: refuted (a universal claim)', evidence: { ...linux, halfTimers: ['timer:(timewait,0)'] }, expect: { 'shutdown-fin-wait-2-unbounded': 'refuted' } },
  { name: 'the shutdown() socket reaped at tcp_fin_timeout, ending the watch early: refuted, not inconclusive', evidence: { ...linux, watchedMs: 1000, halfAlways: false, halfLast: 'absent' }, expect: { 'shutdown-fin-wait-2-unbounded': 'refuted' } },
  {
    name: '--outlive 1: the watch ended at tcp_fin_timeout, before the orphan would be reaped: inconclusive (not refuted)',
    options: { outlive: 1 },
    evidence: { ...linux, watchedMs: 1010, gone: undefined, listed: 3405 },
    expect: { 'orphan-fin-wait-2-reaped': 'inconclusive', 'shutdown-fin-wait-2-unbounded': 'inconclusive' },
    observed: { 'orphan-fin-wait-2-reaped': /\(1125 ms\) after both were seen in FIN-WAIT-2: no \(it ended after 1010 ms\)/ },
  },
  { name: 'the TCP_LINGER2 socket reset at once, but no RST was counted: partly', evidence: { ...linux, rsts: 0 }, expect: { 'linger2-negative-skips': 'partly' } },
  { name: 'TCP_LINGER2 did not read back below zero, and no orphan: inconclusive', evidence: { ...linux, linger2: 60, orphanFirst: 'absent' }, expect: { 'linger2-negative-skips': 'inconclusive', 'orphan-fin-wait-2-reaped': 'inconclusive' } },
]);
