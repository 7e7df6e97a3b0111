import lab from '../../labs/time-wait-syn-accept.ts';
import { judgeCases } from '../judge-cases.ts';

type E = { bytes: number; synGapMs: number; twBefore: number; error: string | undefined; serverMoved: Record<string, number>; clientRsts: number; synRetrans: number; estabAfter: number };
const ahead: E = { bytes: 5, synGapMs: 170, twBefore: 1, error: undefined, serverMoved: {}, clientRsts: 0, synRetrans: 0, estabAfter: 1 };
const behindRecovered: E = { bytes: 64 << 20, synGapMs: 450, twBefore: 1, error: undefined, serverMoved: {}, clientRsts: 1, synRetrans: 1, estabAfter: 1 };
const run = (o: Partial<Record<'a0' | 'a1' | 'b0' | 'b1', E | null>> = {}) => ({
  variants: ([[1, 'ahead', 'a1'], [1, 'behind', 'b1'], [0, 'ahead', 'a0'], [0, 'behind', 'b0']] as const).map(([ts, seq, k]) => {
    const e = k in o ? o[k] : seq === 'ahead' ? ahead : k === 'b1' ? { ...behindRecovered, clientRsts: 0, synRetrans: 0 } : behindRecovered;
    return e ? { ts, seq, evidence: e } : { ts, seq, error: 'no TIME-WAIT for :45000 on the server after 2000 ms' };
  }),
});

export default judgeCases('time-wait-syn-accept', lab, [
  {
    name: 'Linux: ahead taken directly; behind answered, reset and retried at once: confirmed / partly',
    evidence: run(),
    expect: { 'tw-accepts-higher-seq': 'confirmed', 'lower-seq-not-accepted': 'partly' },
    observed: { 'lower-seq-not-accepted': /connected after the client reset the reply and re-sent its SYN \(claim: ETIMEDOUT\)/ },
  },
  { name: 'the article: a SYN behind in sequence gets no answer (ETIMEDOUT)', evidence: run({ b0: { ...behindRecovered, error: 'ETIMEDOUT', estabAfter: 0 } }), expect: { 'lower-seq-not-accepted': 'confirmed' } },
  {
    name: 'the SYN behind is taken at once, and the ones ahead are not: refuted',
    evidence: run({ b0: { ...behindRecovered, clientRsts: 0, synRetrans: 0 }, a0: { ...ahead, error: 'ECONNREFUSED', estabAfter: 0 }, a1: { ...ahead, error: 'ECONNREFUSED', estabAfter: 0 } }),
    expect: { 'tw-accepts-higher-seq': 'refuted', 'lower-seq-not-accepted': 'refuted' },
  },
  { name: 'only one of the ahead variants taken: partly', evidence: run({ a1: { ...ahead, clientRsts: 1, synRetrans: 1 } }), expect: { 'tw-accepts-higher-seq': 'partly' } },
  {
    name: 'the "behind" SYN was not really behind (too few bytes for the gap), no TIME-WAIT seen: inconclusive',
    evidence: run({ b0: { ...behindRecovered, synGapMs: 60_000 }, a0: { ...ahead, twBefore: 0 } }),
    expect: { 'tw-accepts-higher-seq': 'inconclusive', 'lower-seq-not-accepted': 'inconclusive' },
  },
  { name: 'variants that timed out in set-up: inconclusive', evidence: run({ a0: null, b0: null }), expect: { 'tw-accepts-higher-seq': 'inconclusive', 'lower-seq-not-accepted': 'inconclusive' } },
]);
