import lab from '../../labs/active-close.ts';
import { judgeCases } from '../judge-cases.ts';

const seq = { finAcksDropped: 1, lastAcksDropped: 1, late: '31 of 31 bytes', lateAll: true, fw1: 'FIN-WAIT-1 / CLOSE-WAIT', fw2: 'FIN-WAIT-2 / CLOSE-WAIT', lastAck: 'TIME-WAIT / LAST-ACK', closed: 'TIME-WAIT / absent' };
const shortcut = { before: 'FIN-WAIT-1' as const, after: 'TIME-WAIT' as const, pureAcksDropped: 2, fins: 1 };
const run = (e: Partial<typeof seq> = {}, closers: ('client' | 'server')[] = ['client', 'server'], sc: Partial<typeof shortcut> | object = {}) => ({
  seqs: closers.map((closer) => ({ closer, evidence: { ...seq, ...e } })),
  shortcut: { ...shortcut, ...sc } as typeof shortcut,
});
const ALL = ['fin-wait-1', 'fin-wait-2-half-open', 'close-wait', 'last-ack', 'time-wait-on-closer', 'active-not-client', 'fin-wait-1-to-time-wait'] as const;
const every = (v: 'confirmed' | 'refuted' | 'partly' | 'inconclusive') => Object.fromEntries(ALL.map((id) => [id, v]));

export default judgeCases('active-close', lab, [
  { name: 'every step as the article says, both closers', evidence: run(), expect: every('confirmed') },
  {
    name: 'no step as the article says',
    evidence: run({ fw1: 'FIN-WAIT-2 / CLOSE-WAIT', fw2: 'ESTAB / ESTAB', lateAll: false, lastAck: 'CLOSING / CLOSING', closed: 'absent / TIME-WAIT' }, ['client', 'server'], { after: 'FIN-WAIT-2' }),
    expect: every('refuted'),
  },
  {
    name: 'half-open data lost: partly; the closer gone instead of in TIME-WAIT at the end: refuted',
    evidence: run({ lateAll: false, closed: 'absent / absent' }),
    expect: { 'fin-wait-2-half-open': 'partly', 'time-wait-on-closer': 'refuted', 'last-ack': 'confirmed' },
  },
  {
    name: 'only the client closed first (--closer client): active-not-client needs the server sequence',
    options: { closer: ['client'] },
    evidence: run({}, ['client']),
    expect: { 'active-not-client': 'inconclusive', 'fin-wait-1': 'confirmed' },
  },
  {
    name: 'a sequence that timed out, no ACK dropped, no pure ACK dropped: inconclusive',
    evidence: { seqs: [{ closer: 'client' as const, evidence: { ...seq, finAcksDropped: 0, lastAcksDropped: 0 } }, { closer: 'server' as const, error: 'no FIN-WAIT-1 after 2000 ms' }], shortcut: { ...shortcut, pureAcksDropped: 0 } },
    expect: every('inconclusive'),
  },
]);
