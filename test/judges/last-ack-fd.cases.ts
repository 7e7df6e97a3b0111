import lab from '../../labs/last-ack-fd.ts';
import { judgeCases } from '../judge-cases.ts';

type S = { state: string; users: string[]; ino?: number; fds: number[] };
const owned = (state: string, fd: number): S => ({ state, users: [`100:${fd}`], ino: 5000 + fd, fds: [fd] });
const free = (state: string): S => ({ state, users: [], ino: 0, fds: [] });
const c = (how: 'close' | 'shutdown', fd: number, lastAck: S, closeWait: S = owned('CLOSE-WAIT', fd)) => ({ how, fd, inode: 5000 + fd, closeWait, lastAck, after: free('absent') });

export default judgeCases('last-ack-fd', lab, [
  {
    name: 'Linux: close() frees the fd in LAST-ACK, shutdown() keeps it: partly; CLOSE-WAIT owned: confirmed',
    evidence: { pid: 100, cases: [c('close', 28, free('LAST-ACK')), c('shutdown', 31, owned('LAST-ACK', 31))] },
    expect: { 'last-ack-no-fd': 'partly', 'close-wait-holds-fd': 'confirmed' },
    observed: { 'last-ack-no-fd': /only under a condition the claim does not state: LAST-ACK reached by shutdown/ },
  },
  { name: 'no descriptor either way: confirmed', evidence: { pid: 100, cases: [c('close', 28, free('LAST-ACK')), c('shutdown', 31, free('LAST-ACK'))] }, expect: { 'last-ack-no-fd': 'confirmed' } },
  {
    name: 'held even after close(), and CLOSE-WAIT without an owner: refuted',
    evidence: { pid: 100, cases: [c('close', 28, owned('LAST-ACK', 28), free('CLOSE-WAIT')), c('shutdown', 31, owned('LAST-ACK', 31), free('CLOSE-WAIT'))] },
    expect: { 'last-ack-no-fd': 'refuted', 'close-wait-holds-fd': 'refuted' },
  },
  { name: 'one CLOSE-WAIT socket without an owner: partly', evidence: { pid: 100, cases: [c('close', 28, free('LAST-ACK'), free('CLOSE-WAIT')), c('shutdown', 31, owned('LAST-ACK', 31))] }, expect: { 'close-wait-holds-fd': 'partly' } },
  {
    name: 'the ends never reached LAST-ACK or CLOSE-WAIT: inconclusive',
    evidence: { pid: 100, cases: [c('close', 28, free('absent'), free('ESTAB')), c('shutdown', 31, owned('FIN-WAIT-1', 31))] },
    expect: { 'last-ack-no-fd': 'inconclusive', 'close-wait-holds-fd': 'inconclusive' },
  },
]);
