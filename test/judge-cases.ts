// Judge unit tests as data: each labs/<lab>.ts has test/judges/<lab>.cases.ts with made-up evidence and the
// verdict each claim must get. test/unit/judges.test.ts runs them all and checks that they can fail: every
// claim has cases with at least two different verdicts, one of them inconclusive, so a judge changed to any
// constant verdict fails a case.
import type { Verdict } from '../harness/evidence/records.ts';
import type { Claims, Lab } from '../harness/lab/define.ts';
import type { OptionSpecs, OptionValues } from '../harness/lab/options.ts';

export interface JudgeCase<S extends OptionSpecs, E, C extends Claims> {
  name: string;
  evidence: E;
  /** options differing from the lab's defaults */
  options?: Partial<OptionValues<S>>;
  /** the verdict each named claim must get */
  expect: Partial<Record<keyof C & string, Verdict>>;
  /** text the observed sentence of each named claim must contain */
  observed?: Partial<Record<keyof C & string, string | RegExp>>;
}

export interface JudgeCases {
  lab: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  def: Lab<any, any, Claims>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  cases: JudgeCase<any, any, Claims>[];
}

/** Declare the judge cases of a lab (typed against its evidence, options and claim ids). */
export function judgeCases<S extends OptionSpecs, E, C extends Claims>(lab: string, def: Lab<S, E, C>, cases: JudgeCase<S, E, C>[]): JudgeCases {
  return { lab, def, cases };
}
