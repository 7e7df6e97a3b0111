// npm run bench -- stability [lab ...] [--runs N] [--busy K]: every selected lab N times through the suite runner
// (`npm run lab <labs> -- --repeat N`, which writes stability.md), with K busy loops spinning beside it (child
// processes running `for (;;) {}`, killed at the end, on Ctrl-C and when the bench dies), then per lab whether
// each claim got one verdict in all N runs, and the wall time. Exits 1 when a lab was unstable or a run failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LabResult } from '../../harness/evidence/records.ts';
import { stability, variedText, type ClaimStability } from '../../harness/report/suite.ts';
import { byText } from '../../harness/order.ts';
import { labNames } from '../../harness/runs/registry.ts';
import { BenchUsage, ROOT, machineLine, ms, stats, table } from './util.ts';

export interface StabilityOptions {
  labs: string[];
  runs: number;
  busy: number;
  jobs?: number;
  capture: boolean;
  /** keep the run folder (its path is printed) instead of removing it */
  keep: boolean;
}

/** A busy loop that also leaves once its parent is gone (it checks every ~10^8 turns, so it still only spins). */
const SPIN = 'const p = process.ppid; for (let i = 0; ; i++) if ((i & 0x3ffffff) === 0 && process.ppid !== p) process.exit(0);';

/** CPU seconds a process has used (utime + stime from /proc), or undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return undefined;
  }
}

/** Every lab run's result in the run folder (`<lab>.<n>/result.json`), by lab. */
function resultsIn(runDir: string): Map<string, LabResult[]> {
  const out = new Map<string, LabResult[]>();
  for (const d of readdirSync(runDir).sort()) {
    const file = path.join(runDir, d, 'result.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8')) as LabResult;
    out.set(r.lab, [...(out.get(r.lab) ?? []), r]);
  }
  return out;
}

function selected(labs: string[]): string[] {
  const known = labNames();
  if (!labs.length || (labs.length === 1 && labs[0] === 'all')) return known;
  const unknown = labs.filter((l) => !known.includes(l));
  if (unknown.length) throw new BenchUsage(`no lab named ${unknown.map((l) => JSON.stringify(l)).join(', ')} (npm run lab list shows them)`);
  return [...new Set(labs)];
}

export async function stabilityBench(o: StabilityOptions): Promise<void> {
  const labs = selected(o.labs);
  console.log(`bench stability: ${machineLine()}`);
  console.log(`  ${labs.length} lab(s) x ${o.runs} run(s) through npm run lab --repeat ${o.runs}${o.jobs ? ` --jobs ${o.jobs}` : ''}${o.capture ? '' : ' --no-capture'}, ${o.busy} busy loop(s) beside it`);
  const root = mkdtempSync(path.join(tmpdir(), 'tcplab-stability-'));
  const busy: ChildProcess[] = [];
  const cpu = new Map<ChildProcess, number>(); // CPU seconds each busy loop used, read just before it is killed
  const stopBusy = () => {
    for (const b of busy) {
      if (b.exitCode !== null || b.signalCode !== null) continue;
      if (b.pid && !cpu.has(b)) cpu.set(b, cpuSeconds(b.pid) ?? 0);
      b.kill('SIGKILL');
    }
  };
  let suite: ChildProcess | undefined;
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stoppedBy ??= sig;
    stopBusy();
    suite?.kill(sig); // the suite stops its labs and tears their sandboxes down
    process.stderr.write(`\nbench: ${sig}: busy loops stopped, the suite is stopping\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let exit = 0;
  let kept: { runDir: string; labs: string[] } | undefined; // an unstable lab's runs are its evidence: kept without --keep
  try {
    for (let i = 0; i < o.busy; i++) busy.push(spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' }));
    const t0 = performance.now();
    const args = ['run', '--silent', 'lab', '--', ...labs, '--repeat', String(o.runs), '--results-dir', root, ...(o.jobs ? ['--jobs', String(o.jobs)] : []), ...(o.capture ? [] : ['--no-capture'])];
    const code = await new Promise<number | null>((resolve, reject) => {
      suite = spawn('npm', args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      suite.on('error', reject);
      suite.on('close', (c, sig) => resolve(c ?? (sig ? 128 : null)));
    });
    const wall = performance.now() - t0;
    stopBusy();
    const used = busy.map((b) => cpu.get(b) ?? 0);
    const run = readdirSync(root).find((d) => existsSync(path.join(root, d, 'run.json')));
    if (!run) throw new Error(`npm ${args.join(' ')} wrote no run folder (exit ${code})`);
    const runDir = path.join(root, run);
    const bad = report(labs, resultsIn(runDir), o.runs);
    exit = bad.length ? 1 : 0;
    if (bad.length && !o.keep && !stoppedBy) kept = { runDir, labs: bad }; // a pass stopped on request leaves nothing
    if (code !== 0 && code !== 3) exit = 1; // 3: a lab skipped itself (cannot run here), which is stable
    console.log(`  suite exit ${code}; wall time ${ms(wall)}${o.busy ? `; the busy loops used ${used.map((c) => `${c.toFixed(1)} s`).join(', ')} of CPU (${(used.reduce((a, b) => a + b, 0) / (wall / 1000)).toFixed(2)} cores on average)` : ''}`);
    const md = path.join(runDir, 'stability.md');
    console.log(
      o.keep ? `  run folder: ${runDir}${existsSync(md) ? `; per claim: ${md}` : ''}`
      : kept ? `  kept the runs of ${bad.join(', ')} (the rest removed; --keep keeps all): ${runDir}${existsSync(md) ? `; per claim: ${md}` : ''}`
      : '  the run folder is removed (--keep keeps it, with stability.md)',
    );
  } finally {
    stopBusy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (kept) keepOnly(kept.runDir, kept.labs);
    else if (!o.keep) rmSync(root, { recursive: true, force: true });
  }
  process.exitCode = stoppedBy ? 128 + (stoppedBy === 'SIGINT' ? 2 : 15) : exit;
}

/** Removes every lab run folder in runDir (`<lab>.<n>`) but those of `labs`; the run's own files stay. */
export function keepOnly(runDir: string, labs: string[]): void {
  for (const d of readdirSync(runDir, { withFileTypes: true })) {
    if (d.isDirectory() && existsSync(path.join(runDir, d.name, 'result.json')) && !labs.includes(d.name.replace(/\.\d+$/, ''))) {
      rmSync(path.join(runDir, d.name), { recursive: true, force: true });
    }
  }
}

/** Prints one row per lab and the unstable claims; the labs that were unstable, failed or did not finish every run. */
function report(labs: string[], results: Map<string, LabResult[]>, runs: number): string[] {
  const claims = stability([...results.values()].flat());
  const byLab = (lab: string) => claims.filter((c) => c.lab === lab);
  const rows: string[][] = [['lab', 'runs', 'claims', 'one verdict each', 'outcomes', 'lab time min / median / max']];
  const bad: string[] = [];
  for (const lab of labs) {
    const rs = results.get(lab) ?? [];
    const cs = byLab(lab);
    const unstable = cs.filter((c) => !c.stable);
    const outcomes = [...new Set(rs.map((r) => r.outcome))].sort();
    const fine = rs.length === runs && !unstable.length && !outcomes.includes('error');
    if (!fine) bad.push(lab);
    const t = rs.length ? stats(rs.map((r) => r.durationMs)) : undefined;
    rows.push([lab, `${rs.length}/${runs}`, String(cs.length), unstable.length ? `NO: ${unstable.length} unstable` : 'yes', outcomes.join(', ') || 'none', t ? `${ms(t.min)} / ${ms(t.median)} / ${ms(t.max)}` : '-']);
  }
  console.log(table(rows).split('\n').map((l) => `  ${l}`).join('\n'));
  const unstable = claims.filter((c) => !c.stable);
  for (const c of unstable) console.log(`  unstable: ${c.lab}/${c.claim}: ${verdictCounts(c)}`);
  // not a failure of the target (one verdict set per lab), but a cell that flipped under the same verdict
  for (const c of claims.filter((x) => x.stable && x.varied.length)) console.log(`  same verdict, values differed: ${c.lab}/${c.claim}: ${variedText(c)}`);
  console.log(bad.length ? `  unstable, failed or incomplete: ${bad.join(', ')}` : `  every lab gave the same verdicts in all ${runs} runs`);
  return bad;
}

function verdictCounts(c: ClaimStability): string {
  return Object.entries(c.verdicts).sort(([a], [b]) => byText(a, b)).map(([v, n]) => `${v} x${n}`).join(', ');
}
