import lab from '../../labs/orphan-fin-wait-1.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { retries: 2, afterKill: 'FIN-WAIT-1', leftAfterKill: 'FIN-WAIT-1', afterAck: 'FIN-WAIT-2', lifeMs: 3359, retrans: 5, abortOnTimeout: 1 } as const;
type Ev = Parameters<typeof lab.judge>[0];
const ev = (o: Record<string, unknown> = {}) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('orphan-fin-wait-1', lab, [
  { name: 'Linux: FIN-WAIT-1 then FIN-WAIT-2; the orphan aborted after its retries', evidence: ev(), expect: { 'killed-passes-fin-wait-1': 'confirmed', 'orphan-fin-wait-1-retries': 'confirmed' } },
  { name: 'an emulated guest (retries raised to 6): judged against the value set, confirmed', evidence: ev({ retries: 6, lifeMs: 27_162, retrans: 7 }), expect: { 'killed-passes-fin-wait-1': 'confirmed', 'orphan-fin-wait-1-retries': 'confirmed' }, observed: { 'orphan-fin-wait-1-retries': /tcp_orphan_retries = 6/ } },
  { name: 'straight to FIN-WAIT-2, never aborted, never retransmitted: refuted', evidence: ev({ afterKill: 'FIN-WAIT-2', afterAck: 'TIME-WAIT', lifeMs: 60_000, retrans: 0, abortOnTimeout: 0 }), expect: { 'killed-passes-fin-wait-1': 'refuted', 'orphan-fin-wait-1-retries': 'refuted' } },
  { name: 'aborted, but far later than the retries allow: partly', evidence: ev({ lifeMs: 20_000, afterAck: 'CLOSING' }), expect: { 'orphan-fin-wait-1-retries': 'partly', 'killed-passes-fin-wait-1': 'partly' } },
  { name: 'the orphan was never held in FIN-WAIT-1, nothing read: inconclusive', evidence: ev({ leftAfterKill: 'absent', afterKill: undefined, afterAck: undefined }), expect: { 'orphan-fin-wait-1-retries': 'inconclusive', 'killed-passes-fin-wait-1': 'inconclusive' } },
]);
