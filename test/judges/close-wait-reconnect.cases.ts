import lab from '../../labs/close-wait-reconnect.ts';
import { judgeCases } from '../judge-cases.ts';

type Ev = Parameters<typeof lab.judge>[0];
const linux = { serverBefore: 'CLOSE-WAIT', clientBefore: 'absent', connect: 'connected after 10 ms', serverAfter: 'ESTAB', clientAfter: 'ESTAB', challengeAcks: 1, rsts: 1, synRetrans: 1, acceptedNew: true } as unknown as Ev;
const ev = (o: Record<string, unknown>) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('close-wait-reconnect', lab, [
  { name: 'the reconnect ends the old CLOSE-WAIT: refuted', evidence: linux, expect: { 'close-wait-until-close': 'refuted' }, observed: { 'close-wait-until-close': /challenge ACKs 1, RSTs 1/ } },
  { name: 'the reconnect fails and CLOSE-WAIT stays: confirmed', evidence: ev({ connect: 'ETIMEDOUT after 3000 ms', serverAfter: 'CLOSE-WAIT', acceptedNew: false }), expect: { 'close-wait-until-close': 'confirmed' } },
  { name: 'the client end was not gone before the reconnect: inconclusive', evidence: ev({ clientBefore: 'FIN-WAIT-2' }), expect: { 'close-wait-until-close': 'inconclusive' } },
]);
