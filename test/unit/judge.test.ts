// The grading rules (harness/lab/judge.ts, results/README.md), on hand-made checks.
import { describe, expect, it } from 'vitest';
import { all, atLeast, atMost, because, between, caveat, every, fig, grade, is, isNot, missing, need, no, some, yes } from '../../harness/lab/judge.ts';

describe('grading rules', () => {
  const held = is('bind errno', 'EADDRINUSE', 'EADDRINUSE');
  const failed = is('bind errno', 'ok', 'EADDRINUSE');
  it('all parts held → confirmed; none → refuted; some → partly', () => {
    expect(grade(all(held, yes('served', true))).verdict).toBe('confirmed');
    expect(grade(all(failed, yes('served', false))).verdict).toBe('refuted');
    expect(grade(all(held, yes('served', false))).verdict).toBe('partly');
  });
  it('a universal claim is refuted by one counterexample', () => {
    const g = grade(every(held, held, failed));
    expect(g.verdict).toBe('refuted');
    expect(g.observed).toMatch(/^Counterexample: bind errno: ok \(claim: EADDRINUSE\)/);
  });
  it('a claim of possibility is confirmed by one case that shows it', () => {
    expect(grade(some(failed, held)).verdict).toBe('confirmed');
    expect(grade(some(failed, failed)).verdict).toBe('refuted');
  });
  it('missing evidence is inconclusive, never confirmed or refuted', () => {
    expect(grade(all(held, is('state', undefined, 'TIME-WAIT'))).verdict).toBe('inconclusive');
    expect(grade(all(failed, missing('reuse start', 'the watch ended at 500 ms, before 1000 ms'))).verdict).toBe('inconclusive');
    expect(grade(every(held, atLeast('lifetime', undefined, 60, 's'))).verdict).toBe('inconclusive');
    expect(grade(some(failed, yes('rst', undefined))).verdict).toBe('inconclusive');
    expect(grade(all()).verdict).toBe('inconclusive');
  });
  it('an unmet precondition makes the claim inconclusive with its reason, whatever the parts say', () => {
    const g = grade(all(need('watched long enough', false, 'watched 0 s of the 5 s the claim needs'), held));
    expect(g.verdict).toBe('inconclusive');
    expect(g.observed).toContain('watched 0 s of the 5 s the claim needs');
  });
  it('a failing caveat turns confirmed into partly; an unobserved one into inconclusive', () => {
    expect(grade(all(held, caveat(no('needed the old listener to have it too', true)))).verdict).toBe('partly');
    expect(grade(all(held, caveat(no('needed the old listener to have it too', false)))).verdict).toBe('confirmed');
    expect(grade(all(held, caveat(yes('x', undefined)))).verdict).toBe('inconclusive');
  });
  it('writes the observed sentence from the figures, with units, and appends the because', () => {
    const g = grade(because(all(between('reap time', 3100, 2500, 4000, 'ms'), is('state', 'TIME-WAIT', 'TIME-WAIT')), 'The timer read 59 s.'));
    expect(g.observed).toBe('Every part held: reap time: 3100 ms; state: TIME-WAIT. The timer read 59 s.');
    expect(grade(all(held, failed)).observed).toBe('Held: bind errno: EADDRINUSE. Did not hold: bind errno: ok (claim: EADDRINUSE).');
  });
  it('a single check is a one-part claim', () => {
    expect(grade(held).verdict).toBe('confirmed');
    expect(grade(failed).verdict).toBe('refuted');
  });
  it('a comparison with a figure the run did not measure (NaN) is not observed: inconclusive, never refuted', () => {
    for (const c of [atMost('tw bytes', 200, NaN, 'bytes'), atLeast('buckets', 5, NaN), between('len', 60, NaN, 70, 's'), is('ports', 16, NaN), isNot('ports', 16, NaN)]) {
      expect(grade(c).verdict, c.what).toBe('inconclusive');
      expect(grade(every(held, c)).verdict, c.what).toBe('inconclusive');
    }
    expect(grade(atMost('tw bytes', 200, NaN, 'bytes')).observed).toBe('Not observed: tw bytes: 200 bytes, not judged (what it is compared with was not measured).');
    expect(grade(atMost('tw bytes', 200, Infinity, 'bytes')).verdict).toBe('confirmed'); // an open bound is a bound
  });
  it('fig says a missing figure is missing', () => {
    expect([fig(undefined), fig(NaN, 'ms'), fig(null), fig(3, 'ms'), fig('x'), fig(true)]).toEqual(['not observed', 'not observed', 'not observed', '3 ms', 'x', 'yes']);
  });
});
