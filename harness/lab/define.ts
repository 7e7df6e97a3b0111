// How a lab is declared: its claims and options as data, an experiment that returns typed evidence, and a
// pure judge that states each claim as checks over that evidence. The lab's name is its file name.
import type { TableRecord } from '../evidence/records.ts';
import type { LabContext } from './context.ts';
import type { Judged } from './judge.ts';
import type { OptionSpecs, OptionValues } from './options.ts';

/** claim id → [seed article file name, the claim as the article states it, in our own words] */
export type Claims = Record<string, readonly [source: string, statement: string]>;

export interface LabSpec<S extends OptionSpecs, E, C extends Claims> {
  /** one line: what the lab shows */
  title: string;
  /** a paragraph for --help and the writeup: how the experiment is set up (not the claims again) */
  setup: string;
  claims: C;
  options?: S;
  /** sysctls set inside the sandbox before run() (never on the host) */
  sysctls?: Record<string, string>;
  /** about how many seconds a run with default options takes when a kernel timer sets its pace (default 1): a
   *  suite starts the longest labs first; earlier runs' times, when there are any, take precedence */
  seconds?: number;
  /** programs the lab needs inside the sandbox besides ss and ip; missing → skipped with the install hint */
  needs?: { program: string; install: string }[];
  /** the experiment: steps only; returns plain JSON-serialisable evidence (stored in result.json) */
  run(ctx: LabContext, o: OptionValues<S>): Promise<E>;
  /** pure: each claim as checks over the evidence (unit-tested on made-up evidence) */
  judge(ev: E, o: OptionValues<S>): { [K in keyof C]: Judged };
  /** evidence tables for the report and writeup, drawn from the evidence */
  tables?(ev: E, o: OptionValues<S>): TableRecord[];
}

/** A declared lab: the spec with its defaults filled in, still typed (tests call its judge on made-up evidence). */
export interface Lab<S extends OptionSpecs, E, C extends Claims> extends Required<Omit<LabSpec<S, E, C>, 'tables'>> {
  tables(ev: E, o: OptionValues<S>): TableRecord[];
}

/** A lab as the harness handles it, whatever its evidence and option types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LabDefinition = Lab<any, any, Claims>;

/** Declare a lab: fills in the defaults and keeps run/judge typed. */
export function defineLab<const C extends Claims, E, S extends OptionSpecs = Record<string, never>>(spec: LabSpec<S, E, C>): Lab<S, E, C> {
  return {
    ...spec,
    options: spec.options ?? ({} as S),
    sysctls: spec.sysctls ?? {},
    needs: spec.needs ?? [],
    seconds: spec.seconds ?? 1,
    tables: spec.tables ?? (() => []),
  };
}

/** The seed article names a lab cites, in claim order, without repeats. */
export function sourcesOf(def: LabDefinition): string[] {
  return [...new Set(Object.values(def.claims).map(([source]) => source))];
}
