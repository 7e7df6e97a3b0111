// Verdicts as tested rules. A lab's judge states each claim as checks over its evidence (what was measured,
// what the claim expects); grade() turns them into the verdict and writes the observed sentence from the very
// figures the checks looked at. The grading rules live here and in results/README.md, nowhere else:
//   confirmed    the claim as the article states it held
//   refuted      it was contradicted (for a claim with only / always / never / all, one counterexample)
//   partly       a claim of several parts where some held and some did not, or one that held only under a
//                condition the article does not state
//   inconclusive the evidence the claim needs was not observed
import type { Check as CheckRecord, Verdict } from '../evidence/records.ts';

/** A measured figure: a count, an errno name, a state, a duration, yes/no. */
export type Figure = string | number | boolean;

/** One expectation over the evidence (plain data; stored with the verdict). */
export type Check = CheckRecord;

/** How a claim's checks combine. */
export type Rule = 'all' | 'every' | 'some';

/** A claim as its judge states it; graded by the harness. */
export interface ClaimJudgement {
  rule: Rule;
  checks: Check[];
  /** evidence-backed explanation the lab adds (must cite what was recorded, never unmeasured facts) */
  because?: string;
}

/** A figure for the text of a check: 'not observed' when it is missing (or not a number), never "undefined" or "NaN". */
export const fig = (v: Figure | undefined | null, unit = ''): string =>
  v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v)) ? 'not observed' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : `${v}${unit && typeof v === 'number' ? ` ${unit}` : ''}`;
const fmt = fig;

/** The general form: a measured value, what the claim expects of it (words), and whether it met that. */
export function check(what: string, saw: Figure | undefined, want: string, ok: boolean, unit?: string): Check {
  return saw === undefined ? { what, want, role: 'part', why: 'not observed' } : { what, saw, want, ok, role: 'part', ...(unit ? { unit } : {}) };
}

/**
 * A comparison with a figure this run did not measure (a reference given as NaN, e.g. `p?.ports ?? NaN`): not
 * observed, so the claim is inconclusive, never failed for want of its yardstick.
 */
function unmeasured(what: string, saw: Figure | undefined, unit?: string): Check {
  return { what, ...(saw === undefined ? {} : { saw }), want: 'a comparison with a figure this run did not measure', role: 'part', why: 'what it is compared with was not measured', ...(unit ? { unit } : {}) };
}
const isNaNFigure = (v: Figure | undefined) => typeof v === 'number' && Number.isNaN(v);

/** saw must equal want. */
export function is(what: string, saw: Figure | undefined, want: Figure, unit?: string): Check {
  if (isNaNFigure(want)) return unmeasured(what, saw, unit);
  return check(what, saw, fmt(want, unit), saw === want, unit);
}

/** saw must differ from notWant. */
export function isNot(what: string, saw: Figure | undefined, notWant: Figure, unit?: string): Check {
  if (isNaNFigure(notWant)) return unmeasured(what, saw, unit);
  return check(what, saw, `not ${fmt(notWant, unit)}`, saw !== notWant, unit);
}

/** saw must be one of the given values. */
export function oneOf(what: string, saw: Figure | undefined, wants: readonly Figure[]): Check {
  return check(what, saw, `one of ${wants.map((w) => fmt(w)).join(', ')}`, saw !== undefined && wants.includes(saw));
}

/** lo ≤ saw ≤ hi. */
export function between(what: string, saw: number | undefined, lo: number, hi: number, unit?: string): Check {
  if (Number.isNaN(lo) || Number.isNaN(hi)) return unmeasured(what, saw, unit);
  return check(what, saw, `${lo}-${hi}${unit ? ` ${unit}` : ''}`, saw !== undefined && saw >= lo && saw <= hi, unit);
}

/** saw ≥ lo. */
export function atLeast(what: string, saw: number | undefined, lo: number, unit?: string): Check {
  if (Number.isNaN(lo)) return unmeasured(what, saw, unit);
  return check(what, saw, `at least ${fmt(lo, unit)}`, saw !== undefined && saw >= lo, unit);
}

/** saw ≤ hi. */
export function atMost(what: string, saw: number | undefined, hi: number, unit?: string): Check {
  if (Number.isNaN(hi)) return unmeasured(what, saw, unit);
  return check(what, saw, `at most ${fmt(hi, unit)}`, saw !== undefined && saw <= hi, unit);
}

/** A yes/no observation that should be yes. */
export function yes(what: string, saw: boolean | undefined): Check {
  return check(what, saw, 'yes', saw === true);
}

/** A yes/no observation that should be no. */
export function no(what: string, saw: boolean | undefined): Check {
  return check(what, saw, 'no', saw === false);
}

/** A part whose evidence was not observed, with the reason (the watch ended early, a sysctl is missing...). */
export function missing(what: string, why: string): Check {
  return { what, want: 'observed', role: 'part', why };
}

/**
 * A precondition of the experiment (the state was reached, the window was watched long enough, the sysctl
 * exists). Unmet: the claim is inconclusive with `why`, whatever the other checks say.
 */
export function need(what: string, met: boolean, why: string): Check {
  return met ? { what, saw: true, want: 'yes', ok: true, role: 'need' } : { what, saw: false, want: 'yes', ok: false, role: 'need', why };
}

/** A condition the article does not state: if it fails while the claim's parts hold, the verdict is partly. */
export function caveat(c: Check): Check {
  return { ...c, role: 'caveat' };
}

const flat = (xs: (Check | readonly Check[])[]): Check[] => xs.flat();

/** A claim of several parts: all held → confirmed; none → refuted; some → partly. */
export function all(...checks: (Check | readonly Check[])[]): ClaimJudgement {
  return { rule: 'all', checks: flat(checks) };
}

/** A universal claim (only / always / never / all): one counterexample refutes it. */
export function every(...checks: (Check | readonly Check[])[]): ClaimJudgement {
  return { rule: 'every', checks: flat(checks) };
}

/** A claim of possibility ("can"): one case that shows it confirms; none → refuted. */
export function some(...checks: (Check | readonly Check[])[]): ClaimJudgement {
  return { rule: 'some', checks: flat(checks) };
}

/** Add an explanation that cites recorded evidence (to a rule, or to a single check). */
export function because(j: ClaimJudgement | Check, text: string): ClaimJudgement {
  return { ...('rule' in j ? j : all(j)), because: text };
}

function line(c: Check): string {
  if (c.saw === undefined) return `${c.what}: not observed${c.why && c.why !== 'not observed' ? ` (${c.why})` : ''}`;
  if (c.ok === undefined) return `${c.what}: ${fmt(c.saw, c.unit)}, not judged (${c.why ?? 'no comparison'})`;
  if (c.role === 'need') return `${c.what}: ${c.ok ? 'yes' : `no (${c.why})`}`;
  return `${c.what}: ${fmt(c.saw, c.unit)}${c.ok ? '' : ` (claim: ${c.want})`}`;
}

const list = (cs: Check[]) => cs.map(line).join('; ');

/** What a judge gives a claim: a rule over checks, or a single check (a one-part claim). */
export type Judged = ClaimJudgement | Check;

/** The verdict and observed sentence of one claim, from its checks and the grading rules above. */
export function grade(judged: Judged): { verdict: Verdict; observed: string; checks: Check[] } {
  const j: ClaimJudgement = 'rule' in judged ? judged : all(judged);
  const needs = j.checks.filter((c) => c.role === 'need');
  const parts = j.checks.filter((c) => c.role === 'part');
  const caveats = j.checks.filter((c) => c.role === 'caveat');
  const done = (verdict: Verdict, text: string) => ({ verdict, observed: j.because ? `${text} ${j.because}` : text, checks: j.checks });
  const unmet = needs.filter((c) => !c.ok);
  if (unmet.length) return done('inconclusive', `Not answerable from this run: ${list(unmet)}.`);
  if (parts.length === 0) return done('inconclusive', 'The judge stated no checks for this claim.');
  const seen = parts.filter((c) => c.ok !== undefined);
  const held = seen.filter((c) => c.ok);
  const failed = seen.filter((c) => !c.ok);
  const unseen = parts.filter((c) => c.ok === undefined);
  const missingText = unseen.length ? ` ${list(unseen)}.` : '';
  if (j.rule === 'every' && failed.length) return done('refuted', `Counterexample: ${list(failed)}.${held.length ? ` Held: ${list(held)}.` : ''}${missingText}`);
  if (j.rule === 'some' && held.length) return withCaveats(done, `Shown by: ${list(held)}.${failed.length ? ` Not in: ${list(failed)}.` : ''}`, caveats);
  if (unseen.length) return done('inconclusive', `Not observed: ${list(unseen)}.${seen.length ? ` Observed: ${list(seen)}.` : ''}`);
  if (failed.length === 0) return withCaveats(done, `${parts.length > 1 ? 'Every part held: ' : ''}${list(held)}.`, caveats);
  if (held.length === 0 || j.rule === 'some') return done('refuted', `${list(failed)}.`);
  return done('partly', `Held: ${list(held)}. Did not hold: ${list(failed)}.`);
}

function withCaveats(done: (v: Verdict, t: string) => ReturnType<typeof grade>, text: string, caveats: Check[]) {
  const unseen = caveats.filter((c) => c.ok === undefined);
  if (unseen.length) return done('inconclusive', `${text} Not observed: ${list(unseen)}.`);
  const broken = caveats.filter((c) => c.ok === false);
  if (broken.length) return done('partly', `${text} But only under a condition the claim does not state: ${list(broken)}.`);
  return done('confirmed', caveats.length ? `${text} ${list(caveats)}.` : text);
}
