import lab from '../../labs/time-wait-cost.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { n: 2000, twSize: 256, tcpSize: 2368, twObjectsAdded: 3872, serverTw: 2000, serverLocalPorts: 1, clientTw: 2000, clientLocalPorts: 2000 } as Record<string, number | undefined>;
type Ev = Parameters<typeof lab.judge>[0];
const ev = (o: Record<string, number | undefined> = {}) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('time-wait-cost', lab, [
  { name: 'Linux: 256-byte objects, a port only per client-side connection', evidence: ev(), expect: { 'time-wait-lightweight': 'confirmed', 'time-wait-cheap': 'confirmed' }, observed: { 'time-wait-cheap': /1000 KiB for 4000/ } },
  { name: 'TIME-WAIT as big as a full socket, and a port per server-side one too: refuted', evidence: ev({ twSize: 2368, serverLocalPorts: 2000, clientLocalPorts: 1 }), expect: { 'time-wait-lightweight': 'refuted', 'time-wait-cheap': 'refuted' } },
  { name: 'the server-side TIME-WAIT sockets on many ports: partly', evidence: ev({ serverLocalPorts: 2000 }), expect: { 'time-wait-cheap': 'partly' } },
  { name: 'slabinfo unreadable: inconclusive', evidence: ev({ twSize: undefined, twObjectsAdded: undefined, serverLocalPorts: undefined }), expect: { 'time-wait-lightweight': 'inconclusive', 'time-wait-cheap': 'inconclusive' } },
]);
