import lab from '../../labs/handshake.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = {
  listening: 1, accepted: 3,
  sent: { held: 'SYN-SENT', dropped: 1, connect: 'connected after 1018 ms', resolved: 'ESTAB' },
  recv: { dropped: 1, held: 'SYN-RECV', client: 'ESTAB', clientConnect: 'connected after 1 ms', acceptedWhileHeld: 0, acceptMs: 991, resolved: 'ESTAB', plain: 0 },
  established: { connect: 'connected after 1 ms', client: 'ESTAB', server: 'ESTAB' },
  stuckSent: 'ETIMEDOUT after 3081 ms', stuckRecv: { goneAfterMs: 3090, client: 'ESTAB', write: 'ECONNRESET' },
} as unknown as Ev;
type Ev = Parameters<typeof lab.judge>[0];
const with_ = (o: Record<string, unknown>) => ({ ...linux, ...Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'object' ? { ...(linux as unknown as Record<string, object>)[k], ...v } : v])) }) as unknown as Ev;

export default judgeCases('handshake', lab, [
  { name: 'every state held where the article says', evidence: linux, expect: { 'listen-state': 'confirmed', 'syn-sent-state': 'confirmed', 'syn-rcvd-hidden': 'confirmed', 'established-state': 'confirmed' } },
  {
    name: 'nothing where the article says',
    evidence: with_({ listening: 0, accepted: 0, sent: { held: 'ESTAB', resolved: 'absent' }, recv: { held: 'ESTAB', plain: 3, acceptedWhileHeld: 1, resolved: 'absent' }, established: { client: 'SYN-SENT', server: 'absent' } }),
    expect: { 'listen-state': 'refuted', 'syn-sent-state': 'refuted', 'syn-rcvd-hidden': 'refuted', 'established-state': 'refuted' },
  },
  {
    name: 'held, but accept() returned during SYN-RECV and one end not ESTAB: partly',
    evidence: with_({ accepted: 2, sent: { resolved: 'SYN-SENT' }, recv: { acceptedWhileHeld: 1 }, established: { server: 'SYN-RECV' } }),
    expect: { 'listen-state': 'partly', 'syn-sent-state': 'partly', 'syn-rcvd-hidden': 'partly', 'established-state': 'partly' },
  },
  {
    name: 'the rules dropped nothing and the plain handshake failed: inconclusive',
    evidence: with_({ listening: undefined as never, sent: { dropped: 0 }, recv: { dropped: 0 }, established: { connect: 'ECONNREFUSED after 1 ms' } }),
    expect: { 'listen-state': 'inconclusive', 'syn-sent-state': 'inconclusive', 'syn-rcvd-hidden': 'inconclusive', 'established-state': 'inconclusive' },
  },
]);
