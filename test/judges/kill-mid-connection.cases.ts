import lab from '../../labs/kill-mid-connection.ts';
import { judgeCases } from '../judge-cases.ts';

type Op = { call: string; result: string; rsts: number; peerAfter: string };
type Conn = { role: 'client' | 'server'; unread: number; order: 'read-first' | 'write-first'; before: 'ESTAB'; killedAfter: 'FIN-WAIT-2' | 'absent'; peerAfter: 'CLOSE-WAIT' | 'absent'; peerOwned: boolean; ops: Op[] };
const op = (call: string, result: string, rsts = 0, peerAfter = 'absent'): Op => ({ call, result, rsts, peerAfter });
/** one victim's five connections as Linux 6.x leaves them; `read` = what a read after the RST returns */
const linux = (o: { read?: string; write?: string; unreadFin?: boolean; firstWrite?: Op } = {}): Conn[] => {
  const read = o.read ?? '0 (EOF)';
  const write = o.write ?? '-1 EPIPE';
  const fw = o.firstWrite ?? op('write', '100 bytes', 1);
  const clean = (role: 'client' | 'server', order: 'read-first' | 'write-first'): Conn => ({
    role, unread: 0, order, before: 'ESTAB', killedAfter: 'FIN-WAIT-2', peerAfter: 'CLOSE-WAIT', peerOwned: true,
    ops: order === 'read-first' ? [op('read', '0 (EOF)', 0, 'CLOSE-WAIT'), fw, op('read', read), op('write', write)] : [fw, op('write', write), op('read', read), op('write', write)],
  });
  const unread = (order: 'read-first' | 'write-first'): Conn =>
    o.unreadFin ? { ...clean('client', order), unread: 1000 } : { role: 'client', unread: 1000, order, before: 'ESTAB', killedAfter: 'absent', peerAfter: 'absent', peerOwned: false, ops: [op(order === 'read-first' ? 'read' : 'write', '-1 ECONNRESET'), op('write', '-1 EPIPE'), op('read', '0 (EOF)'), op('write', '-1 EPIPE')] };
  return [clean('client', 'read-first'), clean('client', 'write-first'), unread('read-first'), unread('write-first'), clean('server', 'read-first')];
};
const run = (conns: Conn[] | null) => ({
  kills: (['SIGKILL', 'SIGTERM'] as const).map((signal) => (conns ? { signal, evidence: { exit: signal, killRsts: 2, conns } } : { signal, error: 'no every peer end in CLOSE-WAIT or gone after 2000 ms' })),
});

export default judgeCases('kill-mid-connection', lab, [
  {
    name: 'Linux 6.x: FIN only where nothing was unread, CLOSE-WAIT, the write draws RST, then EOF and EPIPE',
    evidence: run(linux()),
    expect: { 'kill-sends-fin': 'partly', 'peer-close-wait': 'confirmed', 'peer-write-draws-rst': 'confirmed', 'read-after-rst-econnreset': 'refuted', 'write-after-rst-epipe': 'confirmed' },
    observed: { 'kill-sends-fin': /only under a condition the claim does not state: SIGKILL client, 1000 B unread/ },
  },
  {
    name: 'the article everywhere: FIN even with unread data, reads after the RST get ECONNRESET',
    evidence: run(linux({ read: '-1 ECONNRESET', unreadFin: true })),
    expect: { 'kill-sends-fin': 'confirmed', 'read-after-rst-econnreset': 'confirmed' },
  },
  {
    name: 'no FIN at all (every end reset by the kill): refuted; no CLOSE-WAIT: refuted',
    evidence: run(linux().map((k) => ({ ...k, killedAfter: 'absent' as const, peerAfter: 'absent' as const, peerOwned: false }))),
    expect: { 'kill-sends-fin': 'refuted', 'peer-close-wait': 'refuted' },
  },
  {
    name: 'the first write already fails and draws no RST: refuted, and what follows is not after an RST (inconclusive)',
    evidence: run(linux({ firstWrite: op('write', '-1 EPIPE', 0), write: '100 bytes' })),
    expect: { 'peer-write-draws-rst': 'refuted', 'write-after-rst-epipe': 'inconclusive', 'read-after-rst-econnreset': 'inconclusive' },
  },
  {
    name: 'the write drew its RST, then later writes succeeded: refuted',
    evidence: run(linux({ write: '100 bytes' })),
    expect: { 'write-after-rst-epipe': 'refuted' },
  },
  {
    name: 'the kills did not run (set-up timed out): every claim inconclusive',
    evidence: run(null),
    expect: { 'kill-sends-fin': 'inconclusive', 'peer-close-wait': 'inconclusive', 'peer-write-draws-rst': 'inconclusive', 'read-after-rst-econnreset': 'inconclusive', 'write-after-rst-epipe': 'inconclusive' },
  },
  {
    name: 'a connection not ESTABLISHED before the kill: inconclusive',
    evidence: run(linux().map((k, i) => (i === 0 ? { ...k, before: 'SYN-SENT' as never } : k))),
    expect: { 'kill-sends-fin': 'inconclusive', 'peer-close-wait': 'inconclusive', 'peer-write-draws-rst': 'inconclusive', 'read-after-rst-econnreset': 'inconclusive', 'write-after-rst-epipe': 'inconclusive' },
  },
]);
