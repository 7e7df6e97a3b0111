// From evidence to the claims of a result: run the lab's judge, grade each claim, and make every claim the
// judge could not answer (no evidence, a judge that threw, a claim it left out) inconclusive with the reason.
import type { ClaimResult } from '../evidence/records.ts';
import type { LabDefinition } from './define.ts';
import { grade, type Judged } from './judge.ts';

/** The graded claims of a lab for this evidence; `undefined` evidence makes every claim inconclusive with `why`. */
export function judgeEvidence(def: LabDefinition, evidence: unknown, options: Record<string, unknown>, why = 'the lab returned no evidence'): ClaimResult[] {
  const claim = (id: string) => ({ id, source: def.claims[id][0], statement: def.claims[id][1] });
  const inconclusive = (id: string, observed: string): ClaimResult => ({ ...claim(id), verdict: 'inconclusive', observed });
  if (evidence === undefined) return Object.keys(def.claims).map((id) => inconclusive(id, `No verdict: ${why}.`));
  let judged: Record<string, unknown>;
  try {
    judged = def.judge(evidence, options);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return Object.keys(def.claims).map((id) => inconclusive(id, `No verdict: the judge failed on this evidence (${message}).`));
  }
  return Object.keys(def.claims).map((id) => {
    const j = judged[id] as Judged | undefined;
    return j ? { ...claim(id), ...grade(j) } : inconclusive(id, 'No verdict: the judge stated nothing for this claim.');
  });
}
