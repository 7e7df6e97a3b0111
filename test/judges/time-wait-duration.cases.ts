import lab from '../../labs/time-wait-duration.ts';
import { judgeCases } from '../judge-cases.ts';

type Range = [number, number];
const present = ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_tw_reuse_delay', 'net.ipv4.tcp_max_tw_buckets'];
/** a socket watched to its end; by default as on an idle host: the FIN at 100 ms, first seen 0-40 ms later, gone 61.4-61.5 s after */
const w = (name: string, finTimeout: number, o: { start?: Range; startFrom?: string; seen?: Range; timer?: string; timerMs?: number; listed?: number; gone?: number } = {}) =>
  ({ name, finTimeout, localPort: 40_000 + finTimeout, start: [100, 100] as Range, startFrom: "the peer's FIN", seen: [100, 140] as Range, timer: 'timer:(timewait,59sec,0)', timerMs: 59_000, listed: 61_500, gone: 61_600, ...o });
const timer = (ms: number) => ({ timerMs: ms, timer: ms >= 10_000 ? `timer:(timewait,${ms / 1000}sec,0)` : `timer:(timewait,${ms}ms,0)` });

export default judgeCases('time-wait-duration', lab, [
  {
    name: 'Linux on a host: a 60 s timer (ss shows 59sec: 59-60 s), gone 61.4 s after the FIN (the timer wheel fires late)',
    evidence: { present, watched: [w('default', 60), w('tcp_fin_timeout=1', 1, { start: [130, 130], seen: [131, 160] })] },
    expect: { 'time-wait-60s': 'confirmed', 'no-sysctl-shortens': 'confirmed', '2msl-1-to-4-minutes': 'confirmed' },
    observed: { 'time-wait-60s': /timer:\(timewait,59sec,0\) when first seen.*: 58990-60050 ms; lifetime from the peer's FIN until ss no longer listed it: 61390-61510 ms/ },
  },
  {
    // the 6.1 guest: first seen 6 s after the FIN, reads ~2 s long; ranges are wide, the verdicts the host's
    name: 'an emulated guest: late first sight and slow reads widen the ranges, the verdicts stay',
    evidence: { present: present.slice(0, 1), watched: [w('default', 60, { start: [1290, 1290], seen: [1300, 7610], ...timer(54_000), listed: 62_000, gone: 64_000 }), w('tcp_fin_timeout=1', 1, { start: [7900, 7900], seen: [7905, 11_493], ...timer(56_000), listed: 68_000, gone: 68_450 })] },
    expect: { 'time-wait-60s': 'confirmed', 'no-sysctl-shortens': 'confirmed', '2msl-1-to-4-minutes': 'confirmed' },
    observed: { 'time-wait-60s': /54000-61330 ms.*60700-62720 ms/ },
  },
  {
    name: 'no capture: the start is known only between close() and its return',
    evidence: { present, watched: [w('default', 60, { start: [95, 99], startFrom: 'close()' }), w('tcp_fin_timeout=1', 1, { start: [95, 99], startFrom: 'close()' })] },
    expect: { 'time-wait-60s': 'confirmed', 'no-sysctl-shortens': 'confirmed' },
    observed: { '2msl-1-to-4-minutes': /lifetime from close\(\) until ss no longer listed it: 61391-61515 ms/ },
  },
  {
    name: 'a kernel with 30 s TIME-WAIT that tcp_fin_timeout shortens: all refuted',
    evidence: { present, watched: [w('default', 60, { ...timer(29_000), listed: 30_000, gone: 30_100 }), w('tcp_fin_timeout=1', 1, { ...timer(900), listed: 1000, gone: 1100 })] },
    expect: { 'time-wait-60s': 'refuted', 'no-sysctl-shortens': 'refuted', '2msl-1-to-4-minutes': 'refuted' },
  },
  {
    name: 'timer read 59 s but the socket lingered 90 s: partly (and still within 1-4 minutes)',
    evidence: { present, watched: [w('default', 60, { listed: 90_000, gone: 90_100 }), w('tcp_fin_timeout=1', 1, { listed: 90_400, gone: 90_500 })] },
    expect: { 'time-wait-60s': 'partly', 'no-sysctl-shortens': 'confirmed', '2msl-1-to-4-minutes': 'confirmed' },
  },
  {
    name: 'with tcp_fin_timeout = 1 the timer read 60 s, yet the socket was gone after 1 s: partly',
    evidence: { present, watched: [w('default', 60), w('tcp_fin_timeout=1', 1, { listed: 1000, gone: 1100 })] },
    expect: { 'no-sysctl-shortens': 'partly', 'time-wait-60s': 'confirmed' },
  },
  {
    name: 'a kernel with a tcp_tw_timeout knob: the run cannot say nothing shortens it',
    evidence: { present: [...present, 'net.ipv4.tcp_tw_timeout'], watched: [w('default', 60), w('tcp_fin_timeout=1', 1)] },
    expect: { 'no-sysctl-shortens': 'inconclusive' },
  },
  {
    name: 'the default socket never seen in TIME-WAIT: inconclusive',
    evidence: { present, watched: [w('default', 60, { seen: undefined, timer: undefined, timerMs: undefined, listed: undefined, gone: undefined }), w('tcp_fin_timeout=1', 1)] },
    expect: { 'time-wait-60s': 'inconclusive', 'no-sysctl-shortens': 'inconclusive', '2msl-1-to-4-minutes': 'inconclusive' },
  },
]);
