import lab from '../../labs/closed-peer-rst.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { clientAtLastAck: 'absent' as const, overflow: 1, acksDropped: 1, retrans: 1, rsts: 1, serverGoneAfterMs: 221 };

export default judgeCases('closed-peer-rst', lab, [
  { name: 'the re-sent FIN drew an RST', evidence: linux, expect: { 'closed-answers-fin-with-rst': 'confirmed' }, observed: { 'closed-answers-fin-with-rst': /left LAST-ACK 221 ms after/ } },
  { name: 'no RST came back: refuted', evidence: { ...linux, rsts: 0 }, expect: { 'closed-answers-fin-with-rst': 'refuted' } },
  { name: 'the closer was in TIME-WAIT after all: inconclusive', evidence: { ...linux, clientAtLastAck: 'TIME-WAIT' as never, overflow: 0 }, expect: { 'closed-answers-fin-with-rst': 'inconclusive' } },
  { name: 'the FIN was never re-sent: inconclusive', evidence: { ...linux, retrans: 0 }, expect: { 'closed-answers-fin-with-rst': 'inconclusive' } },
]);
