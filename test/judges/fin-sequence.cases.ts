import lab from '../../labs/fin-sequence.ts';
import { judgeCases } from '../judge-cases.ts';

const at = (sent: number, acked: number) => ({ sent, acked });

export default judgeCases('fin-sequence', lab, [
  { name: 'SYN 1, 5 data bytes, FIN 1', evidence: { handshake: at(0, 1), data: at(5, 6), fin: at(5, 7) }, expect: { 'fin-takes-one-seq': 'confirmed' } },
  { name: 'a FIN (and a SYN) that took no sequence number: partly', evidence: { handshake: at(0, 0), data: at(5, 5), fin: at(5, 5) }, expect: { 'fin-takes-one-seq': 'partly' } },
  { name: 'nothing as claimed: refuted', evidence: { handshake: at(0, 0), data: at(5, 5), fin: at(7, 5) }, expect: { 'fin-takes-one-seq': 'refuted' } },
  { name: 'the data was not acknowledged before the FIN: inconclusive', evidence: { handshake: at(0, 1), data: at(5, 3), fin: at(5, 7) }, expect: { 'fin-takes-one-seq': 'inconclusive' } },
]);
