// npm run bench -- memory [lab ...|all]: peak resident memory of `npm run lab <lab>`: the whole process tree
// (npm, the CLI, unshare, the runner, its helpers, at the same instant) and its largest process, sampled from
// /proc every 20 ms, beside bare Node and Node with the tsx loader sampled the same way in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, machineLine, mib, ratio, stats, table } from './util.ts';

export interface MemoryOptions {
  labs: string[];
  runs: number;
}

interface Peak {
  /** the most the tree held at one instant (bytes) */
  tree: number;
  /** the most one process held (bytes), and what it was */
  largest: number;
  largestCommand: string;
  exitCode: number | null;
}

/** every process as pid → { ppid, rss bytes, command } */
function processTable(): Map<number, { ppid: number; rss: number; comm: string }> {
  const page = 4096;
  const out = new Map<number, { ppid: number; rss: number; comm: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      // after the command: state ppid ... ; rss (pages) is field 24 of stat, index 21 after the command
      out.set(Number(name), { ppid: Number(fields[1]), rss: Number(fields[21]) * page, comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      /* gone while we looked */
    }
  }
  return out;
}

/** A process named by its role in a lab run: the runner (inside the sandbox), the CLI, npm, or its command. */
function whatIs(pid: number, comm: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.some((a) => /(^|\/)runner\.(ts|mjs|js)$/.test(a))) return 'runner';
    if (argv.some((a) => /cli\/main\.(ts|mjs|js)$|(^|\/)lab\.mjs$/.test(a))) return 'CLI';
    if (argv.some((a) => /(^|\/)npm(-cli\.js)?$/.test(a))) return 'npm';
  } catch {
    /* gone */
  }
  return comm;
}

/** Run a command and sample the RSS of it and all its descendants until it exits. */
export function peakOf(file: string, args: readonly string[], everyMs = 20): Promise<Peak> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
    const peak: Peak = { tree: 0, largest: 0, largestCommand: '', exitCode: null };
    const sample = () => {
      const procs = processTable();
      const mine = new Set([child.pid!]);
      // descendants: parents are listed before children often, but not always; repeat until nothing is added
      for (let grew = true; grew; ) {
        grew = false;
        for (const [pid, p] of procs) if (!mine.has(pid) && mine.has(p.ppid)) mine.add(pid), (grew = true);
      }
      let tree = 0;
      for (const pid of mine) {
        const p = procs.get(pid);
        if (!p) continue;
        tree += p.rss;
        if (p.rss > peak.largest) [peak.largest, peak.largestCommand] = [p.rss, whatIs(pid, p.comm)];
      }
      peak.tree = Math.max(peak.tree, tree);
    };
    const timer = setInterval(sample, everyMs);
    child.on('error', (e) => (clearInterval(timer), reject(e)));
    child.on('exit', (code) => {
      clearInterval(timer);
      peak.exitCode = code;
      resolve(peak);
    });
    sample();
  });
}

export async function memoryBench(o: MemoryOptions): Promise<void> {
  const labs = o.labs.length ? o.labs : ['kernel-defaults', 'server-close-pileup'];
  console.log(`bench memory: ${machineLine()}; ${o.runs} run(s) of each, interleaved with the references; RSS sampled every 20 ms`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  const hold = 'setTimeout(() => {}, 400)';
  const bare: number[] = [];
  const tsx: number[] = [];
  const rows: string[][] = [['', 'tree peak', 'largest process', 'largest / bare Node', 'tree / bare Node']];
  const results = new Map<string, Peak[]>(labs.map((l) => [l, []]));
  try {
    for (let i = 0; i < o.runs; i++) {
      bare.push((await peakOf(process.execPath, ['-e', hold])).largest);
      tsx.push((await peakOf(process.execPath, ['--import', 'tsx', '-e', hold])).largest);
      for (const lab of labs) results.get(lab)!.push(await peakOf('npm', ['run', '--silent', 'lab', '--', lab, '--results-dir', dir]));
    }
    const b = stats(bare).median;
    rows.push(['node (bare)', mib(b), mib(b), ratio(1), ratio(1)]);
    rows.push(['node --import tsx', mib(stats(tsx).median), mib(stats(tsx).median), ratio(stats(tsx).median / b), ratio(stats(tsx).median / b)]);
    for (const [lab, peaks] of results) {
      const tree = stats(peaks.map((p) => p.tree)).median;
      const largest = stats(peaks.map((p) => p.largest)).median;
      const who = [...new Set(peaks.map((p) => p.largestCommand))].join('/');
      const failed = peaks.filter((p) => p.exitCode !== 0).length;
      rows.push([`npm run lab ${lab}${failed ? ` (${failed} run(s) exited non-zero)` : ''}`, mib(tree), `${mib(largest)} (${who})`, ratio(largest / b), ratio(tree / b)]);
    }
    console.log(table(rows).split('\n').map((l) => `  ${l}`).join('\n'));
    console.log(`  medians of ${o.runs}; the tree is every process the command started, summed at the same instant`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
