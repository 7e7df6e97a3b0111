import lab from '../../labs/time-wait-cost.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { n: 2000, twSize: 256, tcpSize: 2368, twObjectsAdded: 3872, serverTw: 2000, serverLocalPorts: 1, clientTw: 2000, clientLocalPorts: 2000 } as Record<string, number | undefined>;
type Ev = Parameters<typeof lab.judge>[0];
const ev = (o: Record<string, number | undefined> = {}) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('time-wait-cost', lab, [
  { name: 'Linux: a 256-byte object against 2,368 bytes', evidence: ev(), expect: { 'time-wait-lightweight': 'confirmed' }, observed: { 'time-wait-lightweight': /1000 KiB for 4000/ } },
  { name: 'TIME-WAIT as big as a full socket: refuted', evidence: ev({ twSize: 2368 }), expect: { 'time-wait-lightweight': 'refuted' } },
  { name: 'slabinfo unreadable (or no TCP cache): inconclusive, not refuted', evidence: ev({ tcpSize: undefined }), expect: { 'time-wait-lightweight': 'inconclusive' } },
]);
