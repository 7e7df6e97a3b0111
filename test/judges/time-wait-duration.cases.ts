import lab from '../../labs/time-wait-duration.ts';
import { judgeCases } from '../judge-cases.ts';

const present = ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_tw_reuse_delay', 'net.ipv4.tcp_max_tw_buckets'];
const w = (name: string, finTimeout: number, firstTimerMs: number | undefined, lifeMs: number | undefined) => ({ name, finTimeout, firstTimerMs, lifeMs });

export default judgeCases('time-wait-duration', lab, [
  {
    name: 'Linux: 60 s either way',
    evidence: { present, watched: [w('default', 60, 59_000, 60_100), w('tcp_fin_timeout=1', 1, 59_000, 60_050)] },
    expect: { 'time-wait-60s': 'confirmed', 'no-sysctl-shortens': 'confirmed', '2msl-1-to-4-minutes': 'confirmed' },
    observed: { 'time-wait-60s': /ss timer when TIME-WAIT was first seen: 59000 ms; lifetime .*: 60100 ms/ },
  },
  {
    name: 'a kernel with 30 s TIME-WAIT that tcp_fin_timeout shortens: both refuted',
    evidence: { present, watched: [w('default', 60, 29_000, 30_000), w('tcp_fin_timeout=1', 1, 1_000, 1_200)] },
    expect: { 'time-wait-60s': 'refuted', 'no-sysctl-shortens': 'refuted', '2msl-1-to-4-minutes': 'refuted' },
  },
  {
    name: 'timer read 59 s but the socket lingered 90 s: partly',
    evidence: { present, watched: [w('default', 60, 59_000, 90_000), w('tcp_fin_timeout=1', 1, 59_000, 90_500)] },
    expect: { 'time-wait-60s': 'partly', 'no-sysctl-shortens': 'confirmed' },
  },
  {
    name: 'a kernel with a tcp_tw_timeout knob: the run cannot say nothing shortens it',
    evidence: { present: [...present, 'net.ipv4.tcp_tw_timeout'], watched: [w('default', 60, 59_000, 60_000), w('tcp_fin_timeout=1', 1, 59_000, 60_000)] },
    expect: { 'no-sysctl-shortens': 'inconclusive' },
  },
  {
    name: 'lifetimes not measured: inconclusive',
    evidence: { present, watched: [w('default', 60, undefined, undefined), w('tcp_fin_timeout=1', 1, 59_000, 60_000)] },
    expect: { 'time-wait-60s': 'inconclusive', 'no-sysctl-shortens': 'inconclusive', '2msl-1-to-4-minutes': 'inconclusive' },
  },
]);
