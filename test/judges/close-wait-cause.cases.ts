import lab from '../../labs/close-wait-cause.ts';
import { judgeCases } from '../judge-cases.ts';

type Ev = Parameters<typeof lab.judge>[0];
const linux = { afterPeerClose: 'CLOSE-WAIT', wireTrouble: 0, networkStates: ['ESTAB', 'absent'] } as unknown as Ev;
const ev = (o: Record<string, unknown>) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('close-wait-cause', lab, [
  { name: 'Linux: the peer closing gives CLOSE-WAIT, a failed network does not: partly', evidence: linux, expect: { 'close-wait-from-network': 'partly' }, observed: { 'close-wait-from-network': /ESTAB -> absent \(claim: CLOSE-WAIT among them\)/ } },
  { name: 'both give CLOSE-WAIT: confirmed', evidence: ev({ networkStates: ['ESTAB', 'CLOSE-WAIT', 'absent'] }), expect: { 'close-wait-from-network': 'confirmed' } },
  { name: 'neither: refuted', evidence: ev({ afterPeerClose: 'ESTAB' }), expect: { 'close-wait-from-network': 'refuted' } },
  { name: 'nothing read after the peer closed: inconclusive', evidence: ev({ afterPeerClose: undefined }), expect: { 'close-wait-from-network': 'inconclusive' } },
]);
