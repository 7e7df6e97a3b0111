import lab from '../../labs/fin-ack-combined.ts';
import { judgeCases } from '../judge-cases.ts';

const combined = { replies: ['F.'], combined: true, acksDropped: 0, between: 'none (no pause)', final: 'TIME-WAIT' };
const separate = { replies: ['.', 'F.'], combined: false, separateAckMs: 301, acksDropped: 0, between: 'FIN-WAIT-2', final: 'TIME-WAIT' };

export default judgeCases('fin-ack-combined', lab, [
  {
    name: 'one FIN+ACK segment and TIME-WAIT at once; closing later, the ACK alone and FIN-WAIT-2: confirmed',
    evidence: { captured: true, pause: 300, cases: { 'at-once': combined, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'confirmed' },
    observed: { 'fin-ack-straight-to-time-wait': /the client after that one segment: TIME-WAIT/ },
  },
  {
    name: 'a slow server sent a bare ACK first, the rule dropped it, and the FIN+ACK was the one to arrive: confirmed',
    evidence: { captured: true, pause: 300, cases: { 'at-once': { ...combined, replies: ['. (dropped)', 'F.'], acksDropped: 1 }, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'confirmed' },
  },
  {
    name: 'a FIN+ACK, yet the client is not in TIME-WAIT after it: refuted',
    evidence: { captured: true, pause: 300, cases: { 'at-once': { ...combined, final: 'CLOSING' }, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'refuted' },
  },
  {
    name: 'a bare ACK reached the client first: the claim is not put to the test, inconclusive, saying what was sent',
    evidence: { captured: true, pause: 300, cases: { 'at-once': { ...separate, between: 'none (no pause)' }, later: separate } },
    expect: { 'fin-ack-straight-to-time-wait': 'inconclusive' },
    observed: { 'fin-ack-straight-to-time-wait': /the server sent \. then F\./ },
  },
  {
    name: 'the contrast failed (no FIN-WAIT-2 seen when the server closed later): inconclusive',
    evidence: { captured: true, pause: 50, cases: { 'at-once': combined, later: { ...separate, between: 'TIME-WAIT' } } },
    expect: { 'fin-ack-straight-to-time-wait': 'inconclusive' },
    observed: { 'fin-ack-straight-to-time-wait': /ss showed the client TIME-WAIT/ },
  },
  {
    name: 'no capture (--no-capture): inconclusive, saying why',
    evidence: { captured: false, pause: 300, cases: { 'at-once': { acksDropped: 0, between: 'none (no pause)', final: 'TIME-WAIT' }, later: { acksDropped: 0, between: 'FIN-WAIT-2', final: 'TIME-WAIT' } } },
    expect: { 'fin-ack-straight-to-time-wait': 'inconclusive' },
    observed: { 'fin-ack-straight-to-time-wait': /no packet capture/ },
  },
]);
