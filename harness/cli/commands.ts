// `npm run lab results | bundle | compare`: the commands that work on earlier runs (nothing is run). Each
// handler resolves with an exit code; user mistakes are UserErrors (main.ts prints one line and exits 2).
import path from 'node:path';
import type { Argv } from 'yargs';
import { runProblems, verdictCounts, VERDICT_ORDER } from '../report/run-index.ts';
import { textTable } from '../report/format.ts';
import { bundlePath, bundleRun, openRun } from '../results/bundle.ts';
import { compareRuns, formatComparison } from '../results/compare.ts';
import { listRuns, resolveRun, type LoadedRun } from '../results/runs.ts';
import { DEFAULT_RESULTS_DIR } from '../results/store.ts';

/** What a command line asked for: the handler to run once parsing is done, with its arguments. */
export interface RunCommand {
  handler: (argv: Record<string, unknown>) => Promise<number>;
  argv: Record<string, unknown>;
}

/** First words that name one of these commands (not a lab). */
export const RUN_COMMANDS: readonly string[] = ['results', 'bundle', 'compare'];

function rootOf(argv: Record<string, unknown>): string {
  return path.resolve(String(argv['results-dir'] ?? DEFAULT_RESULTS_DIR));
}

/** A path as the user would type it: relative to the current folder when under it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** "2026-11-21 09:30 UTC" */
function date(iso?: string): string {
  const t = iso ? new Date(iso) : undefined;
  return t && !Number.isNaN(t.getTime()) ? `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—';
}

function labsCell(run: LoadedRun): string {
  const names = run.labs.map((l) => l.name);
  if (!names.length) return '—';
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} +${names.length - 2} more`;
}

/** One run as plain data for `results --json` (fixed key order). */
function summary(run: LoadedRun) {
  const count = (claims: readonly { verdict: string }[]) => Object.fromEntries(VERDICT_ORDER.map((v) => [v, claims.filter((c) => c.verdict === v).length]));
  const verdicts = count(run.labs.flatMap((l) => l.result?.claims ?? []));
  return {
    id: run.id,
    dir: run.dir,
    startedAt: run.startedAt ?? null,
    kernel: run.kernel ?? null,
    status: run.status,
    labs: run.labs.map((l) => ({ lab: l.name, outcome: l.result?.outcome ?? null, verdicts: l.result ? count(l.result.claims) : null })),
    verdicts,
    problems: [...(run.markerProblem ? [run.markerProblem] : []), ...runProblems(run)],
  };
}

/** `results`: earlier runs, newest first. */
export async function resultsCommand(argv: Record<string, unknown>): Promise<number> {
  const root = rootOf(argv);
  const runs = await listRuns(root);
  if (argv.json === true) {
    process.stdout.write(JSON.stringify(runs.map(summary), null, 2) + '\n');
    return 0;
  }
  if (!runs.length) {
    process.stdout.write(`no runs under ${shown(root)} yet: run a lab with 'npm run lab <lab>' (see 'npm run lab list'); its results land there\n`);
    return 0;
  }
  const rows = runs.map((r) => {
    const s = summary(r);
    return [r.id, date(r.startedAt), r.kernel?.split(' ')[1] ?? r.kernel ?? '—', r.status, labsCell(r), verdictCounts(r.labs.flatMap((l) => l.result?.claims ?? [])), s.problems.join('; ') || '—'];
  });
  process.stdout.write(`${runs.length} run${runs.length === 1 ? '' : 's'} under ${shown(root)}, newest first:\n`);
  process.stdout.write(textTable(['RUN', 'STARTED', 'KERNEL', 'STATUS', 'LABS', 'VERDICTS', 'PROBLEMS'], rows) + '\n');
  return 0;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** `bundle [run]`: pack a run folder into <run-id>.tar.gz. */
export async function bundleCommand(argv: Record<string, unknown>): Promise<number> {
  const runDir = await resolveRun(rootOf(argv), argv.run === undefined ? undefined : String(argv.run));
  const out = await bundlePath(runDir, argv.out === undefined ? undefined : String(argv.out));
  const { file, bytes } = await bundleRun(runDir, out);
  process.stdout.write(`${shown(file)}  (${size(bytes)}; run ${path.basename(runDir)})\n`);
  return 0;
}

/** `compare <a> <b>`: two runs side by side. A report: exit 0 whether or not they differ. */
export async function compareCommand(argv: Record<string, unknown>): Promise<number> {
  const root = rootOf(argv);
  // Ctrl-C while a bundle is unpacked: remove what was unpacked, then stop
  const opened: { close(): Promise<void> }[] = [];
  const stop = (sig: NodeJS.Signals) => void Promise.all(opened.map((o) => o.close())).finally(() => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15)));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, stop);
  const a = await openRun(String(argv.a), root);
  opened.push(a);
  try {
    const b = await openRun(String(argv.b), root);
    opened.push(b);
    try {
      const c = compareRuns(a.run, b.run, { a: a.label, b: b.label });
      process.stdout.write(argv.json === true ? JSON.stringify(c, null, 2) + '\n' : formatComparison(c));
      return 0;
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

const RUN_REF = 'a run id (or a unique prefix of one) under --results-dir, a run folder, or a .tar.gz made by bundle';

/** Add the three commands to the CLI; `choose` records which one was asked for (main.ts runs it after parsing). */
export function addRunCommands(y: Argv, choose: (c: RunCommand) => void): Argv {
  return y
    .command('results', 'list earlier runs, newest first: when, kernel, status, labs, verdict counts, problems', (yy) =>
      yy.epilogue('A run folder without run.json (made before it existed) is listed from its lab folders. --json prints the list as JSON.'), (argv) => choose({ handler: resultsCommand, argv }))
    .command(
      'bundle [run]',
      'pack a run folder (the latest by default) into <run-id>.tar.gz to hand on',
      (yy) =>
        yy
          .positional('run', { type: 'string', describe: 'a run id or a unique prefix of one', defaultDescription: 'the latest run' })
          .option('out', { type: 'string', requiresArg: true, describe: 'file to write, or a folder to put <run-id>.tar.gz in (never overwritten)', defaultDescription: '<results-dir>/<run-id>.tar.gz' })
          .epilogue('The bundle holds everything in the run folder: run.json, README.md and each lab folder as the lab wrote it.'),
      (argv) => choose({ handler: bundleCommand, argv }),
    )
    .command(
      'compare <a> <b>',
      'two runs side by side: verdicts per claim, measured figures, options, kernel and sysctls that differ',
      (yy) =>
        yy
          .positional('a', { type: 'string', describe: RUN_REF })
          .positional('b', { type: 'string', describe: RUN_REF })
          .epilogue('A report: exits 0 whether or not the runs differ (2 if a run cannot be found or read). --json prints the comparison as JSON.'),
      (argv) => choose({ handler: compareCommand, argv }),
    );
}
