import lab from '../../labs/max-tw-buckets.ts';
import { judgeCases } from '../judge-cases.ts';

const base = { defaultMax: 4096, limit: 4, before: [41000, 41001, 41002, 41003], later: [41004, 41005, 41006, 41007, 41008, 41009] };

export default judgeCases('max-tw-buckets', lab, [
  {
    name: 'existing TIME-WAIT all survive and new ones skip it: refuted',
    evidence: { ...base, survivors: base.before, laterInTimeWait: [], overflowCounter: 6 },
    expect: { 'overflow-clears-all': 'refuted' },
    observed: { 'overflow-clears-all': /still listed.*: 4 \(claim: 0\).*0 entered TIME-WAIT.*moved by 6/ },
  },
  {
    name: 'every earlier TIME-WAIT socket gone after the overflow: confirmed',
    evidence: { ...base, survivors: [], laterInTimeWait: [], overflowCounter: 6 },
    expect: { 'overflow-clears-all': 'confirmed' },
  },
  {
    name: 'no overflow happened (all new ones entered TIME-WAIT, counter still): inconclusive',
    evidence: { ...base, survivors: base.before, laterInTimeWait: base.later, overflowCounter: 0 },
    expect: { 'overflow-clears-all': 'inconclusive' },
    observed: { 'overflow-clears-all': /limit was exceeded: no/ },
  },
  {
    name: 'some earlier ones gone: still refuted (not all were cleared)',
    evidence: { ...base, survivors: [41000, 41001], laterInTimeWait: [], overflowCounter: 6 },
    expect: { 'overflow-clears-all': 'refuted' },
  },
]);
