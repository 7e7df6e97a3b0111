// Several labs at once: the CI reporters and the stability of repeated runs (on recorded results), and the
// suite command through the real CLI (two short labs in parallel, a reporter, the errors a user can make).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { readManifest } from '../../harness/build/build.mjs';
import type { ClaimResult, LabResult } from '../../harness/evidence/records.ts';
import { toJunit, toTap } from '../../harness/report/ci.ts';
import { stability, stabilityText, verdictSummary } from '../../harness/report/suite.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function claim(id: string, verdict: ClaimResult['verdict'], saw?: number): ClaimResult {
  return { id, source: '000_x.txt', statement: `${id} holds`, verdict, observed: `${id}: saw ${saw}`, checks: saw === undefined ? [] : [{ what: 'reuse after', saw, want: 'at least 1000', role: 'part', unit: 'ms' }] };
}

function result(lab: string, outcome: LabResult['outcome'], claims: ClaimResult[], reason?: string): LabResult {
  return { schemaVersion: 4, lab, title: lab, outcome, ...(reason ? { reason } : {}), kernel: 'Linux 6.1 x86_64', ranOn: 'host', startedAt: '2026-12-01T08:00:00.000Z', durationMs: 1234, sysctls: {}, options: {}, claims, snapshots: [], events: [], tables: [] };
}

describe('CI reporters', () => {
  const runs = [
    { key: 'a', result: result('a', 'ran', [claim('one', 'confirmed'), claim('two', 'refuted')]) },
    { key: 'b', result: result('b', 'skipped', [claim('three', 'inconclusive')], 'nft is not installed') },
    { key: 'c', result: result('c', 'error', [claim('four <&>', 'inconclusive')], 'the lab stopped: "boom"') },
  ];

  it('TAP: a verdict is ok, a skipped lab is a SKIP, an error is not ok; one point per claim', () => {
    const tap = toTap(runs);
    expect(tap.split('\n').slice(0, 2)).toEqual(['TAP version 13', '1..4']);
    expect(tap).toMatch(/^ok 1 - a one: confirmed$/m);
    expect(tap).toMatch(/^ok 2 - a two: refuted$/m);
    expect(tap).toMatch(/^ok 3 - b three # SKIP nft is not installed$/m);
    expect(tap).toMatch(/^not ok 4 - c four <&>$/m);
    expect(tap).toContain('message: "the lab stopped: \\"boom\\""');
  });

  it('JUnit: failures 0, errors for a lab error, skipped for a skip, escaped names', () => {
    const xml = toJunit(runs);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="tcp-lab" tests="4">/);
    expect(xml).toContain('<testsuite name="a" tests="2" failures="0" errors="0" skipped="0" time="1.234"');
    expect(xml).toContain('<testsuite name="b" tests="1" failures="0" errors="0" skipped="1"');
    expect(xml).toContain('<testsuite name="c" tests="1" failures="0" errors="1" skipped="0"');
    expect(xml).toContain('name="four &lt;&amp;&gt;: inconclusive"');
    expect(xml).toContain('<error message="the lab stopped: &quot;boom&quot;"/>');
    expect((xml.match(/<testcase /g) ?? []).length).toBe(4);
  });
});

describe('stability over repeats', () => {
  it('counts verdicts per claim, lists the unstable ones, and gives the spread of numeric figures', () => {
    const s = stability([
      result('tw', 'ran', [claim('reuse', 'confirmed', 1010), claim('same', 'refuted')]),
      result('tw', 'ran', [claim('reuse', 'partly', 1003), claim('same', 'refuted')]),
      result('tw', 'ran', [claim('reuse', 'confirmed', 1030), claim('same', 'refuted')]),
    ]);
    const reuse = s.find((x) => x.claim === 'reuse')!;
    expect(reuse).toMatchObject({ stable: false, verdicts: { confirmed: 2, partly: 1 } });
    expect(reuse.figures).toEqual([{ what: 'reuse after', unit: 'ms', min: 1003, median: 1010, max: 1030, n: 3 }]);
    expect(s.find((x) => x.claim === 'same')).toMatchObject({ stable: true, verdicts: { refuted: 3 }, figures: [] });
    const text = stabilityText(s, 3);
    expect(text).toContain('Unstable claims (the verdict differed between runs): tw/reuse');
    expect(text).toContain('| tw | reuse **(unstable)** | confirmed ×2, partly ×1 | reuse after: 1003 / 1010 / 1030 ms |');
    expect(verdictSummary(result('x', 'ran', [claim('a', 'refuted'), claim('b', 'confirmed'), claim('c', 'refuted')]))).toBe('1 confirmed, 2 refuted');
  });

  it('a claim that kept its verdict while a check saw another errno in one run is listed with the values', () => {
    const cell = (fw2: string): ClaimResult => ({
      ...claim('only-tw', 'refuted'),
      checks: [
        { what: 'restart over ESTAB', saw: 'ok', want: 'bind EADDRINUSE', role: 'part' },
        { what: 'restart over FIN-WAIT-2', saw: fw2, want: 'bind EADDRINUSE', role: 'part' },
        { what: 'listening after', saw: true, want: 'yes', role: 'part' },
      ],
    });
    const s = stability([result('tr', 'ran', [cell('ok')]), result('tr', 'ran', [cell('bind EADDRINUSE')]), result('tr', 'ran', [cell('ok')])]);
    expect(s[0]).toMatchObject({ stable: true, verdicts: { refuted: 3 }, varied: [{ what: 'restart over FIN-WAIT-2', seen: { ok: 2, 'bind EADDRINUSE': 1 } }] });
    const text = stabilityText(s, 3);
    expect(text).toContain('Same verdict, but a check saw different values between runs: tr/only-tw');
    expect(text).toContain('| tr | only-tw | refuted ×3 | — | restart over FIN-WAIT-2: ok ×2, bind EADDRINUSE ×1 |');
    expect(stability([result('tr', 'ran', [cell('ok')]), result('tr', 'ran', [cell('ok')])])[0].varied).toEqual([]);
    // numbers inside a text are a spread, not another outcome
    expect(stability([result('tr', 'ran', [cell('reused after 1097 ms')]), result('tr', 'ran', [cell('reused after 1080 ms')])])[0].varied).toEqual([]);
  });
});

// the CLI as scripts/lab.mjs starts it: the prebuilt harness made by test/setup-builds.ts (tsx when there is none)
const BUILD = inject('tcpLabBuilds').labs;
const CLI = BUILD ? [path.join(BUILD, readManifest(BUILD)!.cli)] : ['--import', 'tsx', 'harness/cli/main.ts'];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, ...(BUILD ? { TCP_LAB_BUILD: BUILD } : {}) } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run lab <lab> <lab> ... (real labs, in parallel)', () => {
  it('runs both into one run folder, prints one summary, and a JUnit report on stdout', async () => {
    const results = mkdtempSync(path.join(tmpdir(), 'tcplab-suite-'));
    onTestFinished(() => rmSync(results, { recursive: true, force: true }));
    const r = await cli(['close-unread-rst', 'tw-recycle', '--jobs', '2', '--no-capture', '--reporter', 'junit', '--results-dir', results]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml/);
    expect((r.stdout.match(/<testsuite /g) ?? []).length).toBe(2);
    expect(r.stderr).toMatch(/2 lab run\(s\), 2 at a time/);
    expect(r.stderr).toMatch(/LAB\s+OUTCOME\s+CONFIRMED/);
    const [run] = readdirSync(results);
    expect(readdirSync(path.join(results, run)).sort()).toEqual(['README.md', 'close-unread-rst', 'report.html', 'run.json', 'tw-recycle']);
    const marker = JSON.parse(readFileSync(path.join(results, run, 'run.json'), 'utf8'));
    expect(marker).toMatchObject({ status: 'finished', outcomes: { 'close-unread-rst': 'ran', 'tw-recycle': 'ran' } });
  });

  it('--repeat on one lab: numbered folders and a stability report', async () => {
    const results = mkdtempSync(path.join(tmpdir(), 'tcplab-suite-'));
    onTestFinished(() => rmSync(results, { recursive: true, force: true }));
    const r = await cli(['tw-recycle', '--repeat', '2', '--no-capture', '--results-dir', results]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/every claim got the same verdict in all 2 runs/);
    const [run] = readdirSync(results);
    expect(readdirSync(path.join(results, run)).filter((f) => f.startsWith('tw-recycle')).sort()).toEqual(['tw-recycle.1', 'tw-recycle.2']);
    expect(readFileSync(path.join(results, run, 'stability.md'), 'utf8')).toContain('Every claim got the same verdict in all 2 runs.');
  });

  it('user mistakes are one line and exit 2', async () => {
    for (const [args, pattern] of [
      [['all', '--jobs', '0'], /option --jobs: '0' is not valid; expected a whole number from 1 to 64/],
      [['tw-recycle', 'close-unread-rst', '--fast'], /Unknown argument: fast \(lab options need a single lab\)/],
      [['all', 'tw-recycle'], /'all' runs every lab: name no other lab with it/],
      [['tw-recycle', 'no-such-lab'], /unknown lab 'no-such-lab'/],
      [['tw-recycle', '--reporter', 'xml'], /option --reporter: 'xml' is not valid; expected one of tap, junit/],
      [['tw-recycle', '--reporter-out', 'x.xml'], /option --reporter-out: needs --reporter/],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
