// Lab results for CI systems: TAP 13 and JUnit XML. Each claim is a test: a verdict (confirmed, refuted, partly,
// inconclusive) is a result, not a failure; a skipped lab's claims are skips; a lab that ended in an error fails.
import type { LabResult } from '../evidence/records.ts';

export const REPORTERS = ['tap', 'junit'] as const;
export type Reporter = (typeof REPORTERS)[number];

export interface ReportedRun {
  /** the lab's folder in the run (the lab's name, or name.N for repeats) */
  key: string;
  result: LabResult;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** TAP version 13: one test point per claim, with the observation in a YAML block. */
export function toTap(runs: readonly ReportedRun[]): string {
  const points = runs.flatMap(({ key, result: r }) => r.claims.map((c) => ({ key, r, c })));
  const out = ['TAP version 13', `1..${points.length}`];
  points.forEach(({ key, r, c }, i) => {
    const name = `${key} ${c.id}`.replace(/#/g, '\\#');
    if (r.outcome === 'skipped') out.push(`ok ${i + 1} - ${name} # SKIP ${oneLine(r.reason ?? 'skipped')}`);
    else if (r.outcome === 'error') out.push(`not ok ${i + 1} - ${name}`);
    else out.push(`ok ${i + 1} - ${name}: ${c.verdict}`);
    const yaml = [`verdict: ${c.verdict}`, `observed: ${JSON.stringify(oneLine(c.observed))}`, `source: ${c.source}`, `kernel: ${JSON.stringify(r.kernel)}`];
    if (r.outcome === 'error') yaml.unshift(`message: ${JSON.stringify(oneLine(r.reason ?? 'the lab ended in an error'))}`);
    out.push('  ---', ...yaml.map((l) => `  ${l}`), '  ...');
  });
  return out.join('\n') + '\n';
}

function xml(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JUnit XML: a testsuite per lab run, a testcase per claim. */
export function toJunit(runs: readonly ReportedRun[]): string {
  const suites = runs.map(({ key, result: r }) => {
    const failed = r.outcome === 'error' ? r.claims.length : 0;
    const skipped = r.outcome === 'skipped' ? r.claims.length : 0;
    const time = (r.durationMs / 1000).toFixed(3);
    const cases = r.claims.map((c) => {
      const body =
        r.outcome === 'error' ? `<error message="${xml(oneLine(r.reason ?? 'the lab ended in an error'))}"/>`
        : r.outcome === 'skipped' ? `<skipped message="${xml(oneLine(r.reason ?? 'skipped'))}"/>`
        : '';
      return `    <testcase classname="${xml(key)}" name="${xml(`${c.id}: ${c.verdict}`)}" time="${time}">${body}<system-out>${xml(`${c.verdict}: ${c.observed}`)}</system-out></testcase>`;
    });
    return [
      `  <testsuite name="${xml(key)}" tests="${r.claims.length}" failures="0" errors="${failed}" skipped="${skipped}" time="${time}" timestamp="${xml(r.startedAt.replace(/Z$/, ''))}">`,
      `    <properties><property name="kernel" value="${xml(r.kernel)}"/><property name="outcome" value="${r.outcome}"/></properties>`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  const total = runs.reduce((n, x) => n + x.result.claims.length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="tcp-lab" tests="${total}">\n${suites.join('\n')}\n</testsuites>\n`;
}
