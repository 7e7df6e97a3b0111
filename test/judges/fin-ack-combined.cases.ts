import lab from '../../labs/fin-ack-combined.ts';
import { judgeCases } from '../judge-cases.ts';

const combined = { replies: ['F.'], combined: true, between: 'none (no pause)', final: 'TIME-WAIT' };
const separate = { replies: ['.', 'F.'], combined: false, separateAckMs: 301, between: 'FIN-WAIT-2', final: 'TIME-WAIT' };

export default judgeCases('fin-ack-combined', lab, [
  {
    name: 'one FIN+ACK segment and TIME-WAIT at once; with a pause the ACK alone and FIN-WAIT-2: confirmed',
    evidence: { captured: true, pause: 300, attempts: ['. F.', 'F.'], cases: { 'at-once': combined, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'confirmed' },
    observed: { 'fin-ack-straight-to-time-wait': /the client after that one segment: TIME-WAIT/ },
  },
  {
    name: 'a FIN+ACK, yet the client is not in TIME-WAIT after it: refuted',
    evidence: { captured: true, pause: 300, attempts: ['F.'], cases: { 'at-once': { ...combined, final: 'CLOSING' }, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'refuted' },
  },
  {
    name: 'the server did not combine them (a bare ACK first): the claim is not put to the test, inconclusive',
    evidence: { captured: true, pause: 300, attempts: ['. F.', '. F.', '. F.'], cases: { 'at-once': { ...separate, between: 'none (no pause)' }, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'inconclusive' },
    observed: { 'fin-ack-straight-to-time-wait': /in 3 attempt\(s\) it sent \. F\.; \. F\.; \. F\./ },
  },
  {
    name: 'the contrast failed (no FIN-WAIT-2 seen with a pause): inconclusive',
    evidence: { captured: true, pause: 50, attempts: ['F.'], cases: { 'at-once': combined, later: { ...separate, between: 'TIME-WAIT' } } },
    expect: { 'fin-ack-straight-to-time-wait': 'inconclusive' },
  },
  {
    name: 'no capture (--no-capture): inconclusive, saying why',
    evidence: { captured: false, pause: 300, attempts: ['not captured'], cases: { 'at-once': { between: 'none (no pause)', final: 'TIME-WAIT' }, later: { between: 'FIN-WAIT-2', final: 'TIME-WAIT' } } },
    expect: { 'fin-ack-straight-to-time-wait': 'inconclusive' },
    observed: { 'fin-ack-straight-to-time-wait': /no packet capture/ },
  },
]);
