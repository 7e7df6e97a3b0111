// Every lab's judge on made-up evidence (test/judges/<lab>.cases.ts), and a check that those cases can fail.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../harness/evidence/records.ts';
import { parseOptions } from '../../harness/lab/options.ts';
import { all, is, type Judged } from '../../harness/lab/judge.ts';
import { judgeEvidence } from '../../harness/lab/verdicts.ts';
import { labNames } from '../../harness/runs/registry.ts';
import type { JudgeCases } from '../judge-cases.ts';

const DIR = path.resolve(import.meta.dirname, '../judges');
const VERDICTS: Verdict[] = ['confirmed', 'refuted', 'partly', 'inconclusive'];
/** a judgement that always grades to `v`, whatever the evidence */
const CONSTANT: Record<Verdict, Judged> = {
  confirmed: is('constant', 1, 1),
  refuted: is('constant', 1, 2),
  partly: all(is('constant', 1, 1), is('constant', 1, 2)),
  inconclusive: is('constant', undefined, 1),
};
const files = readdirSync(DIR).filter((f) => f.endsWith('.cases.ts')).sort();
const suites: JudgeCases[] = [];
for (const f of files) suites.push((await import(path.join(DIR, f))).default as JudgeCases);

it('every lab has judge cases', () => {
  expect(suites.map((s) => s.lab).sort()).toEqual(labNames());
});

for (const s of suites) {
  describe(`judge of ${s.lab}`, () => {
    const verdictsOf = (c: (typeof s.cases)[number]) => {
      const options = { ...parseOptions(s.lab, s.def.options, {}), ...c.options };
      return judgeEvidence(s.def, JSON.parse(JSON.stringify(c.evidence)), options);
    };
    for (const c of s.cases) {
      it(c.name, () => {
        const claims = verdictsOf(c);
        for (const [id, want] of Object.entries(c.expect)) {
          const got = claims.find((x) => x.id === id);
          expect(got, `claim ${id}`).toBeDefined();
          expect({ id, verdict: got!.verdict, observed: got!.observed }).toMatchObject({ id, verdict: want });
        }
        for (const [id, text] of Object.entries(c.observed ?? {})) {
          expect(claims.find((x) => x.id === id)!.observed).toMatch(text as string | RegExp);
        }
        // missing figures are said as missing, never printed as JavaScript's placeholders; a judge never throws
        for (const claim of claims) {
          expect(JSON.stringify(claim, (_k, v) => (Number.isNaN(v) ? 'NaN' : v)), `claim ${claim.id}`).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]/);
          expect(claim.observed, `claim ${claim.id}`).not.toMatch(/the judge failed/);
        }
        // the tables the writeup shows, from the same evidence: the same rule
        const options = { ...parseOptions(s.lab, s.def.options, {}), ...c.options };
        const tables = s.def.tables?.(JSON.parse(JSON.stringify(c.evidence)), options);
        expect(JSON.stringify(tables ?? [], (_k, v) => (Number.isNaN(v) ? 'NaN' : v)), 'tables').not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]/);
      });
    }

    it('its cases catch a judge changed to give any claim a constant verdict', () => {
      for (const id of Object.keys(s.def.claims)) {
        const expected = new Set(s.cases.flatMap((c) => (c.expect[id] ? [c.expect[id]] : [])));
        expect([...expected], `claim ${id}: cases must expect an inconclusive verdict (missing evidence) too`).toContain('inconclusive');
        for (const constant of VERDICTS) {
          // the mutant: the lab's own judge, except that this claim always gets `constant`
          const mutant = { ...s.def, judge: (ev: unknown, o: Parameters<typeof s.def.judge>[1]) => ({ ...s.def.judge(ev, o), [id]: CONSTANT[constant] }) };
          const caught = s.cases.some((c) => {
            const options = { ...parseOptions(s.lab, s.def.options, {}), ...c.options };
            const got = judgeEvidence(mutant, JSON.parse(JSON.stringify(c.evidence)), options).find((x) => x.id === id)!.verdict;
            return c.expect[id] !== undefined && got !== c.expect[id];
          });
          expect(caught, `claim ${id}: a judge that always says '${constant}' passes every case`).toBe(true);
        }
      }
    });
  });
}
