// What a verdict means and how it was reached, in plain words: the checks as table cells and a short
// paragraph per claim written from the verdict and its checks only (what held, what did not, what could not be
// observed and why), with no explanation of why the kernel behaves so.
import { brief } from './format.ts';
import type { Check, ClaimResult } from '../evidence/records.ts';

/** A check as the four cells of the how-each-verdict-was-reached table. */
export function checkCells(k: Check): [measured: string, saw: string, want: string, held: string] {
  return [
    `${k.what}${k.role === 'need' ? ' (precondition)' : k.role === 'caveat' ? ' (condition the article does not state)' : ''}`,
    k.saw === undefined ? `not observed${k.why && k.why !== 'not observed' ? ` (${brief(k.why)})` : ''}` : figure(k),
    k.want,
    k.ok === undefined ? '—' : k.ok ? 'yes' : `no${k.why && k.role === 'need' ? ` (${brief(k.why)})` : ''}`,
  ];
}

function figure(k: Check): string {
  return `${String(k.saw)}${k.unit ? ` ${k.unit}` : ''}`;
}

/** The figure in a sentence: a boolean reads "yes" or "no". */
function said(k: Check): string {
  return typeof k.saw === 'boolean' ? (k.saw ? 'yes' : 'no') : figure(k);
}

const joined = (xs: string[]) => xs.join('; ');

/**
 * What a verdict means, in plain words, from the verdict and its checks only (what held, what did not, what
 * could not be observed and why); no explanation of why the kernel behaves so.
 */
export function meaning(c: ClaimResult, kernel: string): string {
  const checks = c.checks ?? [];
  if (!checks.length) {
    const lead = { confirmed: 'The statement held', refuted: 'The statement did not hold', partly: 'The statement held only in part', inconclusive: 'This run could not decide the statement' }[c.verdict];
    return `${lead} on ${kernel}. What was measured: ${c.observed}`;
  }
  const held = checks.filter((k) => k.role === 'part' && k.ok === true).map((k) => `${k.what}: ${said(k)}`);
  const failed = checks.filter((k) => k.role === 'part' && k.ok === false).map((k) => `${k.what}: ${said(k)}, where the statement expects ${k.want}`);
  const caveats = checks.filter((k) => k.role === 'caveat' && k.ok === false).map((k) => `${k.what}: ${said(k)} (${k.want} was needed)`);
  const unseen = checks.filter((k) => k.role === 'part' && k.saw === undefined).map((k) => `${k.what}${k.why && k.why !== 'not observed' ? ` (${brief(k.why)})` : ''}`);
  const unmet = checks.filter((k) => k.role === 'need' && k.ok !== true).map((k) => `${k.what}${k.why ? ` (${brief(k.why)})` : k.saw === undefined ? ' (not observed)' : ''}`);
  const out: string[] = [];
  switch (c.verdict) {
    case 'confirmed':
      out.push(`The article's statement held on ${kernel}, with the set-up above: ${joined(held) || c.observed}.`);
      break;
    case 'refuted':
      out.push(`The article's statement did not hold on ${kernel}. Seen instead: ${joined(failed) || c.observed}.`);
      if (held.length) out.push(`What did hold: ${joined(held)}.`);
      break;
    case 'partly':
      out.push(`The article's statement held only in part on ${kernel}.`);
      if (held.length) out.push(`Held: ${joined(held)}.`);
      if (failed.length) out.push(`Did not hold: ${joined(failed)}.`);
      if (caveats.length) out.push(`It needs a condition the article does not state: ${joined(caveats)}.`);
      if (unseen.length) out.push(`Not observed: ${joined(unseen)}.`);
      break;
    case 'inconclusive':
      out.push(`This run cannot say whether the statement holds on ${kernel}.`);
      if (unmet.length) out.push(`The experiment's preconditions were not met: ${joined(unmet)}.`);
      if (unseen.length) out.push(`Not observed: ${joined(unseen)}.`);
      if (held.length) out.push(`What was measured and held: ${joined(held)}.`);
      if (!unmet.length && !unseen.length) out.push(`What was measured: ${c.observed}`);
      break;
  }
  return out.join(' ');
}
