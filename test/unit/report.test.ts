import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { finalReport, liveReporter } from '../../harness/report/console.ts';
import { reproduceCommand } from '../../harness/report/format.ts';
import { renderWriteup } from '../../harness/report/writeup.ts';
import type { LabResult } from '../../harness/evidence/records.ts';
import { parseSs } from '../../harness/evidence/ss.ts';
import { createRunDir, newRunId, writeLabResult } from '../../harness/results/store.ts';
import { assertContract } from '../schema.ts';

const sockets = parseSs(readFileSync(new URL('../fixtures/ss-tanoH-mixed.txt', import.meta.url), 'utf8'));
const result: LabResult = {
  schemaVersion: 2,
  lab: 'demo',
  title: 'Demo lab',
  outcome: 'ran',
  kernel: 'Linux 6.18.0 x86_64',
  startedAt: '2026-11-21T09:00:00.000Z',
  durationMs: 42,
  sysctls: { 'net.ipv4.tcp_fin_timeout': '3' },
  options: { old: ['none', 'both'], port: 9000 },
  claims: [{ id: 'c1', source: '000_c4090bf7a4c28683.txt', statement: 'A claim | with a pipe.', verdict: 'refuted', observed: 'bind ok over 2 TIME-WAIT' }],
  snapshots: [{ label: 'before restart', host: 'sandbox', atMs: 5, sockets }],
  events: [
    { atMs: 1, host: 'sandbox', kind: 'step', detail: 'open the listener' },
    { atMs: 7, host: 'sandbox', kind: 'bind', detail: 'bind EADDRINUSE', data: { bind: 'EADDRINUSE' } },
  ],
  tables: [{ title: 'Matrix', columns: ['old \\ new', 'none'], rows: [['none', 'bind EADDRINUSE']] }],
};

describe('writeup.md', () => {
  const md = renderWriteup(result);
  it('tells the claims, verdicts, evidence and steps in order', () => {
    expect(md).toMatch(/^# Demo lab\n/);
    expect(md).toContain('reproduce: `npm run lab demo -- --old none,both --port 9000`');
    expect(md).toContain('`net.ipv4.tcp_fin_timeout = 3`');
    expect(md).toContain('| c1 | 000 | **refuted** | bind ok over 2 TIME-WAIT |');
    expect(md).toContain('A claim | with a pipe.');
    expect(md).toContain('| none | bind EADDRINUSE |');
    const step = md.indexOf('**open the listener**');
    const snap = md.indexOf('"before restart"');
    const bind = md.indexOf('- bind (sandbox): bind EADDRINUSE');
    expect(step).toBeGreaterThan(0);
    expect(snap).toBeGreaterThan(step);
    expect(bind).toBeGreaterThan(snap);
    expect(md).toContain('TIME_WAIT 1'); // RFC names next to ss's
  });

  it('shows how each verdict was reached, one row per check, with preconditions and missing figures named', () => {
    const graded = renderWriteup({
      ...result,
      claims: [{
        ...result.claims[0],
        checks: [
          { what: 'the state was held', saw: true, want: 'yes', ok: true, role: 'need' },
          { what: 'bind errno', saw: 'ok', want: 'EADDRINUSE', ok: false, role: 'part' },
          { what: 'reuse start', want: 'observed', role: 'part', why: 'the watch ended at 500 ms' },
        ],
      }],
    });
    expect(graded).toContain('### How each verdict was reached');
    expect(graded).toContain('| the state was held (precondition) | true | yes | yes |');
    expect(graded).toContain('| bind errno | ok | EADDRINUSE | no |');
    expect(graded).toContain('| reuse start | not observed (the watch ended at 500 ms) | observed | — |');
  });
});

describe('changeLine', () => {
  it('says what changed between two snapshots of a host', async () => {
    const { changeLine } = await import('../../harness/report/writeup.ts');
    const { parseSsLine } = await import('../../harness/evidence/ss.ts');
    const snap = (label: string, lines: string[]) => ({ label, host: 'sandbox', atMs: 0, sockets: lines.map(parseSsLine) });
    const a = snap('before', ['ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5000', 'ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5001', 'LISTEN 0 511 127.0.0.1:9000 0.0.0.0:*']);
    const b = snap('after', ['TIME-WAIT 0 0 127.0.0.1:9000 127.0.0.1:5000', 'TIME-WAIT 0 0 127.0.0.1:9000 127.0.0.1:5001', 'ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5002']);
    expect(changeLine(a, b)).toBe('since "before": 1 new, 1 gone, ESTAB → TIME-WAIT ×2');
    expect(changeLine(a, a)).toBe('since "before": no change');
  });
});

describe('console report', () => {
  it('prints steps, focused ss lines and a verdict row per claim', () => {
    let out = '';
    const p = { write: (t: string) => void (out += t), isTTY: false };
    const live = liveReporter(p);
    live({ type: 'event', event: result.events[0] });
    live({ type: 'snapshot', snapshot: result.snapshots[0], focus: { state: 'TIME-WAIT' } });
    finalReport(p, result, 'results/x/demo');
    expect(out).toContain('▶ open the listener');
    expect(out).toMatch(/ss -tanoH \[before restart\] on sandbox: ESTAB 4, .*; 1 shown\n {4}TIME-WAIT .*timer:\(timewait,59sec,0\)\n/);
    expect(out).not.toMatch(/\n {4}LISTEN/);
    expect(out).toMatch(/c1\s+000\s+refuted\s+bind ok over 2 TIME-WAIT/);
    expect(out).toContain('results: results/x/demo');
  });
  it('reproduceCommand without options', () => expect(reproduceCommand({ lab: 'x', options: {} })).toBe('npm run lab x'));
});

describe('results store', () => {
  it('gives every run a new folder and never overwrites a lab result', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tcplab-store-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const a = await createRunDir(root);
    const b = await createRunDir(root);
    expect(a).not.toBe(b);
    expect(newRunId(new Date('2026-11-21T09:30:12Z'))).toMatch(/^20261121-093012-[0-9a-f]{4}$/);
    const dir = await writeLabResult(a, result);
    expect(readdirSync(dir).sort()).toEqual(['result.json', 'snapshots', 'writeup.md']);
    expect(readdirSync(path.join(dir, 'snapshots'))).toEqual(['01-sandbox-before-restart.txt']);
    await expect(writeLabResult(a, result)).rejects.toThrow(/EEXIST/);
  });
});

describe('result contract (harness/result.schema.json)', () => {
  it('accepts a well-formed result', () => expect(() => assertContract(result)).not.toThrow());
  it('rejects an unknown verdict and a missing field', () => {
    expect(() => assertContract({ ...result, claims: [{ ...result.claims[0], verdict: 'maybe' as never }] })).toThrow(/verdict/);
    const { kernel: _k, ...noKernel } = result;
    expect(() => assertContract(noKernel as LabResult)).toThrow(/kernel/);
  });
});
