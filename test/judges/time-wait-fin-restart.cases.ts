import lab from '../../labs/time-wait-fin-restart.ts';
import { judgeCases } from '../judge-cases.ts';

const samples = [{ atMs: 10, twMs: 59_000, lastAck: 'timer:(on,2.9s,0)' }, { atMs: 1100, twMs: 58_000, lastAck: 'timer:(on,1.9s,0)' }];
const ev = { rtoSysctl: true, startMs: 59_000, lowMs: 58_000, dropped: 2, retrans: 1, samples };

export default judgeCases('time-wait-fin-restart', lab, [
  { name: 'the timer went back to 59 s when the FIN came again: confirmed', evidence: { ...ev, upMs: 59_000 }, expect: { 'fin-restarts-timer': 'confirmed' }, observed: { 'fin-restarts-timer': /from 59000 ms to 58000 ms\): 59000 ms/ } },
  { name: 'the FIN came again but the timer kept counting down: refuted', evidence: { ...ev, upMs: 55_000 }, expect: { 'fin-restarts-timer': 'refuted' } },
  { name: 'the socket left TIME-WAIT before a higher reading: inconclusive', evidence: { ...ev, upMs: undefined }, expect: { 'fin-restarts-timer': 'inconclusive' } },
  { name: 'no re-sent FIN (nothing retransmitted): inconclusive', evidence: { ...ev, retrans: 0, dropped: 1, upMs: 59_000 }, expect: { 'fin-restarts-timer': 'inconclusive' } },
  { name: 'the timer never counted down first: inconclusive', evidence: { ...ev, lowMs: undefined, upMs: undefined }, expect: { 'fin-restarts-timer': 'inconclusive' } },
  {
    name: 'a kernel without tcp_rto_min_us (6.1): inconclusive with that reason, not an error',
    evidence: { rtoSysctl: false, dropped: 0, retrans: 0, samples: [] },
    expect: { 'fin-restarts-timer': 'inconclusive' },
    observed: { 'fin-restarts-timer': /net\.ipv4\.tcp_rto_min_us is missing/ },
  },
]);
