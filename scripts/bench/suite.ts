// npm run bench -- suite: wall time of `npm run lab all` (every lab, several at once) against its longest lab
// (that lab's own durationMs in the same run): 1.00x would mean the suite takes no longer than its slowest lab.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { byText } from '../../harness/order.ts';
import { peakOf } from './memory.ts';
import { machineLine, mib, ms, ratio, table } from './util.ts';

export interface SuiteOptions {
  jobs?: number;
  capture: boolean;
}

interface LabTime {
  lab: string;
  durationMs: number;
  outcome: string;
}

/** every result.json under the run folder(s) in dir */
function labTimesIn(dir: string): LabTime[] {
  const out: LabTime[] = [];
  for (const run of readdirSync(dir)) {
    const runDir = path.join(dir, run);
    if (!statSync(runDir).isDirectory()) continue;
    for (const lab of readdirSync(runDir)) {
      const file = path.join(runDir, lab, 'result.json');
      if (!existsSync(file)) continue;
      const r = JSON.parse(readFileSync(file, 'utf8')) as { lab: string; durationMs: number; outcome: string };
      out.push({ lab: r.lab, durationMs: r.durationMs, outcome: r.outcome });
    }
  }
  return out.sort((a, b) => b.durationMs - a.durationMs || byText(a.lab, b.lab));
}

export async function suiteBench(o: SuiteOptions): Promise<void> {
  console.log(`bench suite: ${machineLine()}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  const args = ['run', '--silent', 'lab', '--', 'all', '--results-dir', dir, ...(o.jobs ? ['--jobs', String(o.jobs)] : []), ...(o.capture ? [] : ['--no-capture'])];
  try {
    const t0 = performance.now();
    const peak = await peakOf('npm', args, 50);
    const wall = performance.now() - t0;
    const labs = labTimesIn(dir);
    if (!labs.length) throw new Error(`npm ${args.join(' ')} wrote no results (exit ${peak.exitCode})`);
    const longest = labs[0];
    const sum = labs.reduce((a, l) => a + l.durationMs, 0);
    const notOk = labs.filter((l) => l.outcome === 'error');
    console.log(`  npm ${args.slice(0, 5).join(' ')}${o.jobs ? ` --jobs ${o.jobs}` : ''}${o.capture ? '' : ' --no-capture'}: ${labs.length} labs, exit ${peak.exitCode}${notOk.length ? `, ${notOk.length} ended in error (${notOk.map((l) => l.lab).join(', ')})` : ''}`);
    console.log(table([
      ['', 'time', 'against the longest lab'],
      ['suite wall time, start to exit', ms(wall), ratio(wall / longest.durationMs)],
      [`longest lab: ${longest.lab}`, ms(longest.durationMs), ratio(1)],
      ['every lab one after another (sum of their own times)', ms(sum), ratio(sum / longest.durationMs)],
    ]).split('\n').map((l) => `  ${l}`).join('\n'));
    console.log(`  the labs overlapped ${ratio(sum / wall)} on average; peak memory of the whole tree ${mib(peak.tree)}, largest process ${mib(peak.largest)} (${peak.largestCommand})`);
    console.log(`  next longest: ${labs.slice(1, 4).map((l) => `${l.lab} ${ms(l.durationMs)}`).join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
