// `npm run lab all`, `npm run lab <lab> <lab> ...`, `--repeat N`, `--reporter tap|junit`: several lab runs at
// once, each in its own sandbox, into one run folder, longest first, with one summary at the end.
import { availableParallelism } from 'node:os';
import type { Argv } from 'yargs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quote, UserError } from '../errors.ts';
import type { LabResult } from '../evidence/records.ts';
import type { LabEntry } from '../runs/registry.ts';
import { runLab } from '../runs/run.ts';
import { preflight } from '../runs/sandbox.ts';
import { toJunit, toTap, REPORTERS, type Reporter, type ReportedRun } from '../report/ci.ts';
import { stability, stabilityText, SuiteDisplay, suiteTable } from '../report/suite.ts';
import type { Printer } from '../report/console.ts';
import { writeReportHtml } from '../report/html.ts';
import { machineFacts } from '../results/machine.ts';
import { runIds, writeRunIndex } from '../results/runs.ts';
import { createLabDir, writeLabResult, writeMarker, type RunMarker } from '../results/store.ts';
import { exitCodeOf, handleStopSignals, parentGone, type StopSignal } from './signals.ts';
import { stopController } from '../kernel/wait.ts';
import { byNatural, byText } from '../order.ts';

export interface SuiteRequest {
  entries: LabEntry[];
  argv: Record<string, unknown>;
  args: string[];
  /** lab options (only when one lab is named) */
  labOptions?: Record<string, unknown>;
  runDir: string;
}

/** Options of a run of several labs (also accepted after one lab's name). */
export function suiteFlags(y: Argv): Argv {
  return y
    .option('jobs', { type: 'string', requiresArg: true, describe: 'labs run at once, each in its own sandbox', defaultDescription: 'the number of cores' })
    .option('repeat', { type: 'string', requiresArg: true, describe: 'run each lab N times; reports per claim the verdict counts and the spread of its figures', defaultDescription: '1' })
    .option('reporter', { type: 'string', requiresArg: true, describe: 'also print the results for CI: tap (TAP 13) or junit (JUnit XML); the live view then goes to stderr' })
    .option('reporter-out', { type: 'string', requiresArg: true, describe: 'write the --reporter output to this file instead of stdout' });
}

/** A whole-number option from min to max (default when not given); a mistake is a UserError naming the range (and why it ends there). */
export function wholeOption(name: string, v: unknown, min: number, max: number, dflt: number, why?: string): number {
  if (v === undefined) return dflt;
  if (Array.isArray(v)) throw new UserError(`option --${name}: given ${v.length} times; give it once`);
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(String(v)) || n < min || n > max) throw new UserError(`option --${name}: ${quote(String(v))} is not valid; expected a whole number from ${min} to ${max}${why ? ` (${why})` : ''}`);
  return n;
}

/** --jobs, --repeat, --reporter, --reporter-out, checked (a mistake is exit 2 with one line). */
export function suiteOptions(argv: Record<string, unknown>): { jobs: number; repeat: number; reporter?: Reporter; reporterOut?: string } {
  const reporter = argv.reporter;
  if (Array.isArray(reporter)) throw new UserError('option --reporter: given more than once; give it once');
  if (reporter !== undefined && !REPORTERS.includes(reporter as Reporter)) throw new UserError(`option --reporter: ${quote(String(reporter))} is not valid; expected one of ${REPORTERS.join(', ')}`);
  const out = argv['reporter-out'];
  if (out !== undefined && (Array.isArray(out) || String(out).trim() === '')) throw new UserError('option --reporter-out: expected one file name');
  if (out !== undefined && reporter === undefined) throw new UserError('option --reporter-out: needs --reporter tap or --reporter junit');
  return {
    jobs: wholeOption('jobs', argv.jobs, 1, 64, Math.max(1, availableParallelism())),
    repeat: wholeOption('repeat', argv.repeat, 1, 1000, 1),
    ...(reporter ? { reporter: reporter as Reporter } : {}),
    ...(out !== undefined ? { reporterOut: String(out) } : {}),
  };
}

/** How long each lab is expected to take: its median over the newest earlier runs, else its own hint. */
async function expectedMs(root: string, entries: LabEntry[]): Promise<Map<string, number>> {
  const seen = new Map<string, number[]>();
  const ids = (await runIds(root).catch(() => [] as string[])).slice(-20);
  for (const id of ids) {
    for (const e of entries) {
      const r = await readFile(path.join(root, id, e.name, 'result.json'), 'utf8').then((t) => JSON.parse(t) as LabResult, () => undefined);
      if (r?.outcome === 'ran' && typeof r.durationMs === 'number') seen.set(e.name, [...(seen.get(e.name) ?? []), r.durationMs]);
    }
  }
  return new Map(entries.map((e) => {
    const xs = (seen.get(e.name) ?? []).sort((a, b) => a - b);
    return [e.name, xs.length ? xs[Math.floor(xs.length / 2)] : e.def.seconds * 1000];
  }));
}

/** Run the labs (each `repeat` times) `jobs` at a time; returns the exit code (the worst outcome wins). */
export async function suiteCommand(req: SuiteRequest): Promise<number> {
  const o = suiteOptions(req.argv);
  const json = req.argv.json === true;
  const capture = req.argv.capture !== false;
  const machine = machineFacts();
  await preflight();
  // the human view goes to stderr when stdout carries a report or JSON
  const toStdout = !json && !(o.reporter && !o.reporterOut);
  const stream = toStdout ? process.stdout : process.stderr;
  const p: Printer = { write: (t) => void stream.write(t), isTTY: !!stream.isTTY, columns: stream.columns };
  const expect = await expectedMs(path.dirname(req.runDir), req.entries);
  const tasks = req.entries
    .flatMap((entry) => Array.from({ length: o.repeat }, (_, i) => ({ entry, key: o.repeat > 1 ? `${entry.name}.${i + 1}` : entry.name })))
    .sort((a, b) => expect.get(b.entry.name)! - expect.get(a.entry.name)! || byText(a.key, b.key));
  const ac = stopController();
  let stoppedBy: StopSignal | undefined;
  const marker: RunMarker = { status: 'running', pid: process.pid, labs: tasks.map((t) => t.key), args: req.args, startedAt: new Date().toISOString(), machine: await machine };
  const outcomes: Record<string, string> = {};
  const note = () => (stoppedBy === 'SIGTERM' && parentGone() ? 'the process that started the run (npm) went away' : undefined);
  handleStopSignals(
    (sig) => {
      stoppedBy = sig;
      p.write(`\n${sig}: stopping the running labs and tearing down their sandboxes (Ctrl-C again to quit at once)\n`);
      ac.abort(sig);
    },
    (sig) => {
      writeMarker(req.runDir, { ...marker, status: 'interrupted', signal: stoppedBy ?? sig, outcomes, endedAt: new Date().toISOString(), note: 'quit at once on a second signal: labs still running wrote no result' });
      process.exit(exitCodeOf(stoppedBy ?? sig));
    },
  );
  writeMarker(req.runDir, marker);
  const started = Date.now();
  if (!json) p.write(`${tasks.length} lab run(s), ${Math.min(o.jobs, tasks.length)} at a time, into ${req.runDir}\n`);
  const display = json ? undefined : new SuiteDisplay(p, tasks.length);
  const done: ReportedRun[] = [];
  const queue = [...tasks];
  const worker = async () => {
    for (let t = queue.shift(); t && !ac.signal.aborted; t = queue.shift()) {
      const dir = await createLabDir(req.runDir, t.key);
      display?.started(t.key, t.entry.name);
      const key = t.key;
      const result = await runLab({
        lab: t.entry,
        options: req.entries.length === 1 ? (req.labOptions ?? {}) : {},
        signal: ac.signal,
        ...(capture ? { captureDir: dir } : {}),
        onMessage: (m) => display?.message(key, m),
        onOutput: (line) => (display ? display.line(`${key} ${line}`) : process.stderr.write(`${key} ${line}\n`)),
      });
      await writeLabResult(req.runDir, result, (w) => display?.line(`${key}: ${w}`), t.key);
      outcomes[t.key] = result.outcome;
      writeMarker(req.runDir, { ...marker, outcomes });
      done.push({ key: t.key, result });
      display?.finished(t.key, result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, tasks.length) }, worker));
  display?.done();
  writeMarker(req.runDir, { ...marker, status: stoppedBy ? 'interrupted' : 'finished', ...(stoppedBy ? { signal: stoppedBy } : {}), outcomes, note: note(), endedAt: new Date().toISOString() });
  const order = new Map(tasks.map((t, i) => [t.key, i]));
  done.sort((a, b) => byNatural(a.key, b.key) || order.get(a.key)! - order.get(b.key)!);
  const warn = (what: string) => (err: unknown) => process.stderr.write(`lab: could not write the run's ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
  await writeRunIndex(req.runDir).catch(warn('README.md'));
  await writeReportHtml(req.runDir).catch(warn('report.html'));
  const stable = o.repeat > 1 ? stability(done.map((d) => d.result)) : undefined;
  if (stable) await writeFile(path.join(req.runDir, 'stability.md'), stabilityText(stable, o.repeat));
  if (o.reporter) {
    const text = o.reporter === 'tap' ? toTap(done) : toJunit(done);
    if (o.reporterOut) await writeFile(o.reporterOut, text);
    else process.stdout.write(text);
  }
  if (json) process.stdout.write(JSON.stringify(done.map((d) => d.result), null, 2) + '\n');
  else {
    const wall = Date.now() - started;
    const longest = Math.max(0, ...done.map((d) => d.result.durationMs));
    p.write(`\n${suiteTable(done)}\n\n${done.length} lab run(s) in ${(wall / 1000).toFixed(1)} s with --jobs ${o.jobs} (longest lab ${(longest / 1000).toFixed(1)} s)\n`);
    if (stable) {
      const unstable = stable.filter((s) => !s.stable);
      p.write(unstable.length ? `unstable claims over ${o.repeat} runs: ${unstable.map((s) => `${s.lab}/${s.claim}`).join(', ')}\n` : `every claim got the same verdict in all ${o.repeat} runs\n`);
      p.write(`stability: ${path.join(req.runDir, 'stability.md')}\n`);
    }
    p.write(`results: ${req.runDir}\nreport: ${path.join(req.runDir, 'report.html')}\n`);
    if (queue.length) p.write(`${queue.length} lab run(s) were not started\n`);
  }
  if (stoppedBy) return exitCodeOf(stoppedBy);
  if (queue.length || done.some((d) => d.result.outcome === 'error')) return 1;
  return done.some((d) => d.result.outcome === 'skipped') ? 3 : 0;
}
