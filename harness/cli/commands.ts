// `npm run lab results | bundle | compare`: the commands that work on earlier runs (nothing is run), and
// `kernels`, the guest kernels in the cache. Each handler resolves with an exit code; user mistakes are
// UserErrors (main.ts prints one line and exits 2).
import path from 'node:path';
import type { Argv } from 'yargs';
import { runProblems, verdictCounts, VERDICT_ORDER } from '../report/run-index.ts';
import { textTable } from '../report/format.ts';
import { compareRuns, formatComparison } from '../results/compare.ts';
import { formatMatrix, kernelMatrix, matrixMarkdown, spansKernels } from '../report/kernel-matrix.ts';
import { listRuns, resolveRun, type LoadedRun } from '../results/runs.ts';
import { DEFAULT_RESULTS_DIR } from '../results/store.ts';
import { UserError } from '../errors.ts';

/** What a command line asked for: the handler to run once parsing is done, with its arguments. */
export interface RunCommand {
  handler: (argv: Record<string, unknown>) => Promise<number>;
  argv: Record<string, unknown>;
}

/** First words that name one of these commands (not a lab). */
export const RUN_COMMANDS: readonly string[] = ['results', 'bundle', 'compare', 'kernels'];

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
  const { bundlePath, bundleRun } = await import('../results/bundle.ts'); // tar: loaded by the commands that use it
  const out = await bundlePath(runDir, argv.out === undefined ? undefined : String(argv.out));
  const { file, bytes } = await bundleRun(runDir, out);
  process.stdout.write(`${shown(file)}  (${size(bytes)}; run ${path.basename(runDir)})\n`);
  return 0;
}

/**
 * `compare <a> [b...]`: two runs side by side; or, for one run made with --kernel, three or more runs, or
 * --by-kernel, the verdicts by kernel (claims as rows, kernels as columns). A report: exit 0 whether or not they differ.
 */
export async function compareCommand(argv: Record<string, unknown>): Promise<number> {
  const root = rootOf(argv);
  const refs = [String(argv.a), ...((argv.b as unknown[] | undefined) ?? []).map(String)];
  // Ctrl-C while a bundle is unpacked: remove what was unpacked, then stop
  const opened: { close(): Promise<void> }[] = [];
  const stop = (sig: NodeJS.Signals) => void Promise.all(opened.map((o) => o.close())).finally(() => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15)));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, stop);
  try {
    const runs = [];
    for (const ref of refs) {
      const o = await (await import('../results/bundle.ts')).openRun(ref, root);
      opened.push(o);
      runs.push(o);
    }
    if (runs.length === 2 && argv['by-kernel'] !== true) {
      const c = compareRuns(runs[0].run, runs[1].run, { a: runs[0].label, b: runs[1].label });
      process.stdout.write(argv.json === true ? JSON.stringify(c, null, 2) + '\n' : formatComparison(c));
      return 0;
    }
    const results = runs.flatMap((r) => r.run.labs.flatMap((l) => (l.result ? [{ ...l.result, lab: l.result.lab ?? l.name.split('@')[0] }] : [])));
    if (runs.length === 1 && !spansKernels(results)) {
      throw new UserError(`run ${runs[0].label} ran on one kernel only: name a second run to compare it with, or run labs on several kernels (--kernel)`);
    }
    const m = kernelMatrix(results);
    process.stdout.write(argv.json === true ? JSON.stringify(m, null, 2) + '\n' : argv.markdown === true ? matrixMarkdown(m) : formatMatrix(m));
    return 0;
  } finally {
    await Promise.all(opened.map((o) => o.close()));
  }
}

/** `kernels [add <version> | remove <release>]`: list, fetch or drop the kernels guests boot. */
export async function kernelsCommand(argv: Record<string, unknown>): Promise<number> {
  const action = String(argv.action ?? 'list');
  const version = argv.version === undefined ? '' : String(argv.version);
  const own = argv.vmlinuz !== undefined || argv.modules !== undefined;
  if (action !== 'add' && own) throw new UserError('--vmlinuz and --modules go with add');
  if (action === 'list' && version) throw new UserError(`'kernels' lists every cached kernel: to fetch one, 'npm run lab kernels -- add ${version}'`);
  const [{ addKernel, kernelCacheDir, listKernels, removeKernel }, { accelFinding, folderBytes }] = await Promise.all([import('../guest/kernels.ts'), import('../guest/cache.ts')]);
  if (action === 'add') {
    if (own && (argv.vmlinuz === undefined || argv.modules === undefined)) throw new UserError('a kernel of your own needs both --vmlinuz <file> and --modules <folder>');
    if (!own && !version) throw new UserError("add needs a version ('npm run lab kernels -- add 6.1') or --vmlinuz <file> --modules <folder>");
    const e = await addKernel(version, (line) => process.stdout.write(`kernels: ${line}\n`), own ? { vmlinuz: String(argv.vmlinuz), modules: String(argv.modules) } : undefined);
    process.stdout.write(`${e.release}  ${shown(e.dir)}\n`);
    return 0;
  }
  if (action === 'remove') {
    if (!version) throw new UserError("remove needs a release ('npm run lab kernels' lists them)");
    const e = await removeKernel(version);
    process.stdout.write(`removed ${e.release} (${shown(e.dir)})\n`);
    return 0;
  }
  const kernels = await listKernels();
  const rows = await Promise.all(kernels.map(async (k) => ({ k, bytes: await folderBytes(k.dir), accel: (await accelFinding(k.release))?.accel })));
  if (argv.json === true) {
    process.stdout.write(JSON.stringify(rows.map(({ k, bytes, accel }) => ({ ...k, bytes, accel: accel ?? null })), null, 2) + '\n');
    return 0;
  }
  if (!kernels.length) {
    process.stdout.write(`no kernels in ${shown(kernelCacheDir())} yet: add one with 'npm run lab kernels -- add 6.1' (needs scripts/setup.sh --kernels)\n`);
    return 0;
  }
  const lacks = (k: (typeof kernels)[number]) => (k.features ? Object.keys(k.features).filter((f) => k.features![f] === 'n').join(', ') || '—' : 'no config');
  process.stdout.write(`${kernels.length} kernel${kernels.length === 1 ? '' : 's'} in ${shown(kernelCacheDir())}:\n`);
  process.stdout.write(textTable(['RELEASE', 'SOURCE', 'SIZE', 'RUNS WITH', 'LACKS', 'PATH'], rows.map(({ k, bytes, accel }) =>
    [k.release, k.source === 'debian' ? `debian ${k.package ?? ''}`.trim() : 'own', size(bytes), accel === 'kvm' ? 'kvm' : accel === 'tcg' ? 'emulation (tcg)' : 'not run yet', lacks(k), shown(k.dir)])) + '\n');
  return 0;
}

const RUN_REF = 'a run id (or a unique prefix of one) under --results-dir, a run folder, or a .tar.gz made by bundle';

/** Add the four commands to the CLI; `choose` records which one was asked for (main.ts runs it after parsing). */
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
      'compare <a> [b..]',
      'two runs side by side (verdicts per claim, measured figures, options, kernel and sysctls that differ), or the verdicts by kernel',
      (yy) =>
        yy
          .positional('a', { type: 'string', describe: RUN_REF })
          .positional('b', { type: 'string', describe: 'more runs, as for a' })
          .option('by-kernel', { type: 'boolean', describe: 'the verdicts by kernel even for two runs: claims as rows, kernels as columns' })
          .option('markdown', { type: 'boolean', describe: 'the verdicts by kernel as a Markdown table (for a writeup or a README)' })
          .epilogue(
            'One run made with --kernel, three or more runs, or --by-kernel: a table of claims by kernel, differing verdicts marked with the figures behind them. ' +
              'A report: exits 0 whether or not the runs differ (2 if a run cannot be found or read). --json prints the comparison as JSON.',
          ),
      (argv) => choose({ handler: compareCommand, argv }),
    )
    .command(
      'kernels [action] [version]',
      'the kernels labs can run under in a QEMU guest: list them, add <version> (Debian\'s package), remove <release>',
      (yy) =>
        yy
          .positional('action', { type: 'string', choices: ['list', 'add', 'remove'], describe: 'what to do', defaultDescription: 'list' })
          .positional('version', { type: 'string', describe: 'add: 6.1, 6.12 or a full release (the newest matching Debian package); remove: a cached release' })
          .option('vmlinuz', { type: 'string', requiresArg: true, describe: 'add a kernel of your own: its image (bzImage)' })
          .option('modules', { type: 'string', requiresArg: true, describe: 'with --vmlinuz: its modules (a folder holding lib/modules/<release>, or that release folder)' })
          .epilogue('Kernels are kept in $TCP_LAB_KERNELS_DIR, else $XDG_CACHE_HOME/tcp-lab/kernels, else ~/.cache/tcp-lab/kernels. Fetching needs apt lists and scripts/setup.sh --kernels; nothing is installed. --json lists them as JSON.'),
      (argv) => choose({ handler: kernelsCommand, argv }),
    );
}
