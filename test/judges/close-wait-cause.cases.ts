import lab from '../../labs/close-wait-cause.ts';
import { judgeCases } from '../judge-cases.ts';

const wire = { 'Tcp.RetransSegs': 0, 'Tcp.InErrs': 0, 'Tcp.OutRsts': 0, 'TcpExt.TCPLossProbes': 0, 'TcpExt.TCPTimeouts': 0 };
const linux = { serverIdle: 'CLOSE-WAIT' as const, wireTrouble: 0, wire, afterClose: 'absent' as const };

export default judgeCases('close-wait-cause', lab, [
  { name: 'CLOSE-WAIT over a clean wire: refuted', evidence: linux, expect: { 'close-wait-from-network': 'refuted' }, observed: { 'close-wait-from-network': /left CLOSE-WAIT as soon as/ } },
  { name: 'CLOSE-WAIT only with segments lost: confirmed', evidence: { ...linux, wireTrouble: 3, wire: { ...wire, 'Tcp.RetransSegs': 3 } }, expect: { 'close-wait-from-network': 'confirmed' } },
  { name: 'no CLOSE-WAIT reached: inconclusive', evidence: { ...linux, serverIdle: 'ESTAB' as never }, expect: { 'close-wait-from-network': 'inconclusive' } },
]);
