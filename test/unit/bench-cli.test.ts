// npm run bench: its subcommands, its one-line mistakes, and the helpers every bench prints with.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceUrlsPlugin } from '../../harness/build/build.mjs';
import { keepOnly } from '../../scripts/bench/stability.ts';
import { Asked, NO_COMPILER, ratio, stats, table } from '../../scripts/bench/util.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// scripts/bench.ts as one esbuild bundle of its own sources (packages stay imports), started with plain node: the
// same code `npm run bench` runs through tsx, without tsx transforming it at each of the nine starts (~0.6 CPU-s each)
const CACHE = path.join(ROOT, 'node_modules', '.cache');
mkdirSync(CACHE, { recursive: true });
const OUT = mkdtempSync(path.join(CACHE, 'bench-cli-test-'));
const BENCH = path.join(OUT, 'bench.mjs');
beforeAll(async () => {
  await build({ entryPoints: [path.join(ROOT, 'scripts/bench.ts')], outfile: BENCH, bundle: true, format: 'esm', platform: 'node', packages: 'external', plugins: [await sourceUrlsPlugin()], logLevel: 'silent' });
});
afterAll(() => rmSync(OUT, { recursive: true, force: true }));
const bench = (...args: string[]) => spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('npm run bench', () => {
  it('lists what it measures with --help', () => {
    const r = bench('--help');
    expect(r.status).toBe(0);
    for (const what of ['labs', 'startup', 'churn', 'snapshot', 'suite', 'memory', 'stability']) expect(r.stdout).toMatch(new RegExp(`npm run bench -- ${what}\\b`));
    const churn = bench('churn', '--help');
    expect(churn.stdout).toMatch(/--connections/);
    expect(churn.stdout).toMatch(/--rounds/);
  });

  it('says what is wrong in one line and exits 2', () => {
    for (const args of [[], ['nothing'], ['churn', '--rounds', '0'], ['snapshot', '--sockets', 'lots'], ['labs', '--runs', '1.5'], ['stability', '--busy', '-1'], ['stability', 'no-such-lab']]) {
      const r = bench(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^bench: /);
    }
  });
});

describe('bench helpers', () => {
  it('medians, ratios and tables in fixed formats', () => {
    expect(stats([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(stats([4, 1, 2, 3]).median).toBe(2.5);
    expect(() => stats([])).toThrow();
    expect(ratio(0.934)).toBe('0.93x');
    expect(table([['a', 'bb'], ['ccc', 'd']])).toBe('a    bb\nccc   d');
    expect(NO_COMPILER).toMatch(/apt-get install gcc/);
  });

  it("stability keeps an unstable lab's runs (each repeat's folder, and a single run's) and the run's own files, and removes the other labs' runs", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-keep-test-'));
    try {
      for (const d of ['linger-zero.1', 'linger-zero.12', 'linger-zero', 'active-close.1', 'active-close.2', 'tw-reuse', 'not-a-run']) {
        mkdirSync(path.join(dir, d));
        if (d !== 'not-a-run') writeFileSync(path.join(dir, d, 'result.json'), '{}');
      }
      writeFileSync(path.join(dir, 'stability.md'), '');
      keepOnly(dir, ['linger-zero']);
      expect(readdirSync(dir).sort()).toEqual(['linger-zero', 'linger-zero.1', 'linger-zero.12', 'not-a-run', 'stability.md']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Asked: one answer per question from a long-lived process; its death fails that question and every later one with its last stderr line', async () => {
    const echo = 'process.stdin.setEncoding("utf8"); let b = ""; process.stdin.on("data", (t) => { b += t; let i; while ((i = b.indexOf("\\n")) >= 0) { const n = Number(b.slice(0, i)); b = b.slice(i + 1); if (n < 0) { console.error("told to die"); process.exit(3); } console.log(JSON.stringify({ twice: 2 * n })); } });';
    const p = new Asked<{ twice: number }>('the doubler', process.execPath, ['-e', echo]);
    expect(await p.ask('2')).toEqual({ twice: 4 });
    expect(await p.ask('21')).toEqual({ twice: 42 });
    await p.end();
    const q = new Asked<{ twice: number }>('the doubler', process.execPath, ['-e', echo]);
    await expect(q.ask('-1')).rejects.toThrow('the doubler exited 3: told to die');
    await expect(q.ask('1')).rejects.toThrow('the doubler exited 3: told to die'); // asked after it died: no hang
  });
});
