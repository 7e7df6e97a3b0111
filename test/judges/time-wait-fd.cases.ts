import lab from '../../labs/time-wait-fd.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { n: 200, before: 30, during: 31, listenerFds: 1, timeWait: 200, owned: 0, next: 'connected' };

export default judgeCases('time-wait-fd', lab, [
  { name: 'Linux: no owner, no descriptor, new connections open: refuted', evidence: linux, expect: { 'time-wait-holds-fd': 'refuted' } },
  { name: 'each TIME-WAIT socket held a descriptor and connect failed: confirmed', evidence: { ...linux, owned: 200, during: 231, next: 'EMFILE' }, expect: { 'time-wait-holds-fd': 'confirmed' } },
  { name: 'owned in ss -p but no descriptor gained: partly', evidence: { ...linux, owned: 200 }, expect: { 'time-wait-holds-fd': 'partly' } },
  { name: 'fewer TIME-WAIT sockets than asked for: inconclusive', evidence: { ...linux, timeWait: 150 }, expect: { 'time-wait-holds-fd': 'inconclusive' } },
]);
