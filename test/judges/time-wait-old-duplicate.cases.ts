import lab from '../../labs/time-wait-old-duplicate.ts';
import { judgeCases } from '../judge-cases.ts';

const seen = {
  captured: true, found: true as const, expect: { ack: 3911219619, seq: 1002436613 }, stateBefore: 'TIME-WAIT' as const,
  first: { flags: '.', seq: 1002436613, ack: 3911219619 }, peer: { flags: 'R', seq: 3911219619, ack: 0 }, stateAfter: 'absent' as const,
  restartOver: 'TIME-WAIT' as const, second: { flags: '.', seq: 773739440, ack: 3586669372 }, stateAfterRestart: 'TIME-WAIT' as const, accepted: 0, bytes: 0,
};

export default judgeCases('time-wait-old-duplicate', lab, [
  {
    name: 'TIME-WAIT ACKs the duplicate with the expected numbers; the restarted server gets nothing: confirmed, refuted',
    evidence: seen,
    expect: { 'old-duplicate-acked': 'confirmed', 'restart-stray-data': 'refuted' },
    observed: { 'old-duplicate-acked': /answered that ACK with \[R\], and the server's end was then absent/ },
  },
  {
    name: 'an ACK, but of the wrong number: partly',
    evidence: { ...seen, first: { flags: '.', seq: 1002436613, ack: 3911219609 } },
    expect: { 'old-duplicate-acked': 'partly' },
  },
  {
    name: 'no answer at all: refuted',
    evidence: { ...seen, first: undefined, peer: undefined },
    expect: { 'old-duplicate-acked': 'refuted' },
  },
  {
    name: 'the restarted server read the stray data: confirmed',
    evidence: { ...seen, bytes: 10 },
    expect: { 'restart-stray-data': 'confirmed' },
  },
  {
    name: 'the server end had already left TIME-WAIT: inconclusive for both',
    evidence: { ...seen, stateBefore: 'absent' as const, restartOver: 'absent' as const },
    expect: { 'old-duplicate-acked': 'inconclusive', 'restart-stray-data': 'inconclusive' },
  },
  {
    name: 'no capture: inconclusive, saying why',
    evidence: { captured: false, found: false as const },
    expect: { 'old-duplicate-acked': 'inconclusive', 'restart-stray-data': 'inconclusive' },
    observed: { 'old-duplicate-acked': /no packet capture/ },
  },
]);
