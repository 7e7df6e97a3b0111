import lab from '../../labs/state-legend.ts';
import { judgeCases } from '../judge-cases.ts';

/** what Linux 6.18 showed */
const linux = {
  est: { client: 'ESTAB', server: 'ESTAB' },
  fw1: { client: 'FIN-WAIT-1', server: 'CLOSE-WAIT' },
  finAcksDropped: 1,
  fw2: { client: 'FIN-WAIT-2', server: 'CLOSE-WAIT' },
  la: { client: 'TIME-WAIT', server: 'LAST-ACK', lastAckTimer: 'on', timeWaitTimer: 'timewait', finsSent: 2 },
  lastAcksDropped: 3,
  end: { client: 'TIME-WAIT', server: 'absent', ackToGoneMs: 19 },
  crossed: { client: 'CLOSING', server: 'FIN-WAIT-2', finsLost: 1 },
} as const;

export default judgeCases('state-legend', lab, [
  {
    name: 'Linux: FIN_WAIT_1 and FIN_WAIT_2 as the legend says; TIME_WAIT on the closer; LAST_ACK re-sends its FIN and ends on the ACK',
    evidence: linux,
    expect: { 'fin-wait-1-app-done': 'confirmed', 'fin-wait-2-peer-agreed': 'confirmed', 'fin-waits-wait-for-fin': 'partly', 'time-wait-peer-began': 'refuted', 'last-ack-packets-die': 'refuted' },
    observed: {
      'fin-waits-wait-for-fin': /FIN-WAIT-1, on the peer's FIN without the ACK of its own: the client's next state: CLOSING/,
      'time-wait-peer-began': /LAST-ACK -> absent \(claim: TIME-WAIT\).*after the server closed: TIME-WAIT \(claim: not TIME-WAIT\)/,
      'last-ack-packets-die': /ss timer \(the TIME-WAIT socket beside it: timewait\): on .*: 2 \(claim: at most 1\).*: 19 ms/,
    },
  },
  {
    name: 'a kernel whose FIN-WAIT-1 ends on the FIN and whose LAST-ACK waits out a timer: confirmed',
    evidence: {
      ...linux,
      la: { ...linux.la, lastAckTimer: 'timewait', finsSent: 1 },
      end: { client: 'TIME-WAIT', server: 'absent', ackToGoneMs: 30_000 },
      crossed: { client: 'TIME-WAIT', server: 'TIME-WAIT', finsLost: 1 },
    },
    expect: { 'fin-wait-1-app-done': 'confirmed', 'fin-waits-wait-for-fin': 'confirmed', 'last-ack-packets-die': 'confirmed' },
  },
  {
    name: 'a kernel that put TIME-WAIT on the side whose peer began the release: confirmed',
    evidence: { ...linux, la: { ...linux.la, client: 'CLOSING' }, end: { client: 'absent', server: 'TIME-WAIT', ackToGoneMs: 19 } },
    expect: { 'time-wait-peer-began': 'confirmed' },
  },
  {
    name: 'the ACK moved nothing and the server had closed: FIN_WAIT_2 refuted; no FIN-WAIT-1 after shutdown: partly',
    evidence: { ...linux, fw1: { client: 'ESTAB', server: 'CLOSE-WAIT' }, fw2: { client: 'FIN-WAIT-1', server: 'LAST-ACK' } },
    expect: { 'fin-wait-1-app-done': 'partly' },
  },
  {
    name: 'the ACK of the FIN was held back, yet FIN-WAIT-2 never came and the server had sent its FIN: refuted',
    evidence: { ...linux, fw2: { client: 'FIN-WAIT-1', server: 'LAST-ACK' } },
    expect: { 'fin-wait-2-peer-agreed': 'refuted' },
  },
  {
    name: 'no rule dropped anything (the states were never held): inconclusive',
    evidence: { ...linux, finAcksDropped: 0, lastAcksDropped: 0, fw1: { client: 'FIN-WAIT-2', server: 'ESTAB' }, crossed: { ...linux.crossed, finsLost: 0 } },
    expect: { 'fin-wait-1-app-done': 'inconclusive', 'fin-wait-2-peer-agreed': 'inconclusive', 'fin-waits-wait-for-fin': 'inconclusive', 'time-wait-peer-began': 'inconclusive', 'last-ack-packets-die': 'inconclusive' },
  },
  {
    name: 'no capture, and a LAST-ACK that otherwise looks like a wait-out: inconclusive',
    evidence: { ...linux, la: { ...linux.la, lastAckTimer: 'timewait', finsSent: 1 }, end: { client: 'TIME-WAIT', server: 'absent', ackToGoneMs: undefined } },
    expect: { 'last-ack-packets-die': 'inconclusive' },
    observed: { 'last-ack-packets-die': /ms from the final ACK \(in the capture\) to ss no longer listing the socket: not observed/ },
  },
]);
