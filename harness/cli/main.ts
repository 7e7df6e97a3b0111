// `npm run lab …`: the command line. A thin layer over harness/run.ts; user mistakes exit 2 with one line.
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../errors.ts';
import { findLab, listLabs, type LabEntry } from '../runs/registry.ts';
import { finalReport, liveReporter, type Printer } from '../report/console.ts';
import { shortSource } from '../report/format.ts';
import type { LabResult } from '../evidence/records.ts';
import { runLab } from '../runs/run.ts';
import { parseOptions } from '../lab/options.ts';
import { createLabDir, writeLabResult, writeMarker, type RunMarker } from '../results/store.ts';
import { preflight } from '../runs/sandbox.ts';
import { exitCodeOf, handleStopSignals, parentGone, watchParent, type StopSignal } from './signals.ts';
import { addRunCommands, RUN_COMMANDS, type RunCommand } from './commands.ts';
import { machineFacts } from '../results/machine.ts';
import { writeRunIndex } from '../results/runs.ts';
import { writeReportHtml } from '../report/html.ts';
import { suiteCommand, suiteFlags, suiteOptions } from './suite.ts';
import { addLabOptions, checkGlobalOptions, prepareRunDir, runFlags, strict, tame } from './flags.ts';
import { stopController } from '../kernel/wait.ts';
import { kernelFlags, kernelMain, wantsKernels } from './kernel-main.ts';

/** Exit codes: 0 ran, 1 lab error, 2 user mistake, 3 skipped here; a stopped run exits 128 + the signal (130 Ctrl-C). */
export const EXIT = { ran: 0, error: 1, usage: 2, skipped: 3 } as const;

const stdout: Printer = { write: (t) => void process.stdout.write(t), isTTY: !!process.stdout.isTTY, columns: process.stdout.columns };


async function listCommand(): Promise<void> {
  const labs = await listLabs();
  const w = Math.max(...labs.map((l) => l.name.length));
  for (const l of labs) process.stdout.write(`${l.name.padEnd(w)}  ${l.title}  [articles ${l.sources.map(shortSource).join(', ')}]\n`);
}


async function labCommand(entry: LabEntry, argv: Record<string, unknown>, args: string[]): Promise<number> {
  const labOptions: Record<string, unknown> = {};
  for (const name of Object.keys(entry.def.options)) if (argv[name] !== undefined) labOptions[name] = argv[name];
  parseOptions(entry.name, entry.def.options, labOptions); // bad options are exit 2 before anything runs or is written
  const machine = machineFacts(); // never rejects; recorded in run.json
  await preflight(); // missing tools or no user namespaces: one line, before anything is printed or written
  const json = argv.json === true;
  const ac = stopController();
  let stoppedBy: StopSignal | undefined;
  // the marker's note; it says when the SIGTERM came from the kernel because npm (the parent) died, which is
  // checked when the marker is written: the signal can arrive while npm is still exiting
  const note = (text = '') =>
    [stoppedBy === 'SIGTERM' && parentGone() ? 'the process that started the run (npm) went away' : '', text].filter(Boolean).join('; ') || undefined;
  let runDir: string | undefined;
  const marker: RunMarker = { status: 'running', pid: process.pid, labs: [entry.name], args, startedAt: new Date().toISOString() };
  handleStopSignals(
    (sig) => {
      stoppedBy = sig;
      if (!json) process.stderr.write(`\n${sig}: stopping the lab and tearing down its sandbox (Ctrl-C again to quit at once)\n`);
      ac.abort(sig);
    },
    (sig) => {
      // a deliberate second signal: quit now; the sandbox dies with this process (PR_SET_PDEATHSIG)
      if (runDir) writeMarker(runDir, { ...marker, status: 'interrupted', signal: stoppedBy ?? sig, endedAt: new Date().toISOString(), note: note(`quit at once on a second ${sig}: no result was written`) });
      process.exit(exitCodeOf(stoppedBy ?? sig));
    },
  );
  runDir = await prepareRunDir(argv);
  marker.machine = await machine;
  writeMarker(runDir, marker);
  if (ac.signal.aborted) writeMarker(runDir, { ...marker, status: 'interrupted', signal: stoppedBy, endedAt: new Date().toISOString(), note: note('stopped before the lab started') });
  if (!json) process.stdout.write(`${entry.name}: ${entry.title}\n`);
  const labDir = await createLabDir(runDir, entry.name);
  const capture = argv.capture !== false;
  const result: LabResult = await runLab({
    ...(capture ? { captureDir: labDir } : {}),
    lab: entry,
    options: labOptions,
    signal: ac.signal,
    onMessage: json ? undefined : liveReporter(stdout),
    onOutput: (line) => process.stderr.write(line + '\n'),
  });
  const dir = await writeLabResult(runDir, result, (text) => process.stderr.write(`lab: ${text}\n`));
  for (const e of result.events) if (e.kind === 'capture' && !json) process.stderr.write(`lab: ${e.detail}\n`);
  writeMarker(runDir, {
    ...marker,
    status: stoppedBy ? 'interrupted' : 'finished',
    ...(stoppedBy ? { signal: stoppedBy } : {}),
    note: note(),
    endedAt: new Date().toISOString(),
    outcomes: { [entry.name]: result.outcome },
  });
  await writeRunIndex(runDir).catch((err) => process.stderr.write(`lab: could not write the run's README.md: ${err instanceof Error ? err.message : String(err)}\n`));
  await writeReportHtml(runDir).catch((err) => process.stderr.write(`lab: could not write the run's report.html: ${err instanceof Error ? err.message : String(err)}\n`));
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    const rel = path.relative(process.cwd(), dir);
    finalReport(stdout, result, rel && !rel.startsWith('..') ? rel : dir);
  }
  if (stoppedBy) return exitCodeOf(stoppedBy);
  return result.outcome === 'ran' ? EXIT.ran : result.outcome === 'skipped' ? EXIT.skipped : EXIT.error;
}




/** `npm run lab all` or `npm run lab <lab> <lab> ...`: several labs into one run folder. */
async function suiteMain(names: string[], args: string[]): Promise<number> {
  if (names.includes('all') && names.length > 1) throw new UserError("'all' runs every lab: name no other lab with it");
  const entries = names[0] === 'all' ? await listLabs() : await Promise.all([...new Set(names)].map((n) => findLab(n)));
  let parsed: Record<string, unknown> = {};
  const y2 = suiteFlags(yargs(args.slice(names.length)))
    .scriptName('npm run lab --')
    .usage('Usage: npm run lab all [-- options]   |   npm run lab <lab> <lab> ... [-- options]\n\nRuns the labs at once, each in its own sandbox, longest first, into one run folder. Lab options need a single lab.');
  runFlags(y2, 'print the results as a JSON array on stdout instead of the report');
  await strict(y2, (msg) => {
    throw new UserError(`${tame(msg)}${/Unknown argument/.test(msg) ? ' (lab options need a single lab)' : ''} (see --help)`);
  })
    .parseAsync()
    .then((a) => (parsed = a as Record<string, unknown>));
  if (parsed.help) return EXIT.ran;
  checkGlobalOptions(args, parsed);
  suiteOptions(parsed); // mistakes are exit 2 before anything is written
  return suiteCommand({ entries, argv: parsed, args, runDir: await prepareRunDir(parsed) });
}

/** Parse argv and run; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const first = args[0];
  const names = args.slice(0, Math.max(0, args.findIndex((a) => a.startsWith('-'))) || args.length);
  const guestOnly = args.find((a) => /^--(accel|guest-cpus|guest-timeout)(=|$)/.test(a));
  if (guestOnly && !wantsKernels(args)) throw new UserError(`option ${guestOnly.split('=')[0]}: only for runs on other kernels; add --kernel <version>`);
  if (wantsKernels(args) && first && ![...RUN_COMMANDS, 'list', 'help'].includes(first)) {
    watchParent();
    return kernelMain(names, args);
  }
  if (first && (first === 'all' || names.length > 1) && ![...RUN_COMMANDS, 'list', 'help'].includes(first)) {
    watchParent();
    return suiteMain(names, args);
  }
  // running one lab imports only that lab (unknown name: closest names); list and --help import them all
  const named = first && !first.startsWith('-') && first !== 'list' && first !== 'help' && !RUN_COMMANDS.includes(first);
  if (named) watchParent(); // from here on the CLI ends when npm does, even before its stop handlers exist
  const labs = named ? [await findLab(first)] : RUN_COMMANDS.includes(first) ? [] : await listLabs();
  // handlers only record what was asked; the work runs after parsing, so its errors reach main's caller
  let chosen: { entry: LabEntry; argv: Record<string, unknown> } | RunCommand | 'list' | undefined;
  const y = yargs(args)
    .scriptName('npm run lab --')
    .usage('Usage: npm run lab <lab> [-- options]   |   npm run lab list\n\nRuns a lab in its own network namespace and reports, per claim, what the kernel did.')
    .command('list', 'list every lab with its title and the articles it tests', {}, () => {
      chosen = 'list';
    });
  runFlags(y, 'print the result JSON on stdout instead of the report');
  suiteFlags(y);
  kernelFlags(y);
  y.command('all', 'run every lab, several at once (see npm run lab all -- --help)');
  addRunCommands(y, (c) => void (chosen = c));
  for (const l of labs) {
    y.command(l.name, `${l.title} [${l.sources.map(shortSource).join(', ')}]`, (yy) => addLabOptions(yy, l.def), (argv) => {
      chosen = { entry: l, argv: argv as Record<string, unknown> };
    });
  }
  y.demandCommand(1, "name a lab to run, or 'list' to see them");
  await strict(y, (msg) => {
    throw new UserError(`${tame(msg)} (see --help)`);
  })
    .parseAsync();
  if (chosen === 'list') await listCommand();
  else if (chosen && 'handler' in chosen) {
    checkGlobalOptions(args, chosen.argv);
    return chosen.handler(chosen.argv);
  } else if (chosen) {
    checkGlobalOptions(args, chosen.argv);
    const a = chosen.argv;
    if (a.repeat !== undefined || a.reporter !== undefined || a.jobs !== undefined || a['reporter-out'] !== undefined) {
      const labOptions = Object.fromEntries(Object.keys(chosen.entry.def.options).filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));
      parseOptions(chosen.entry.name, chosen.entry.def.options, labOptions);
      suiteOptions(a);
      return suiteCommand({ entries: [chosen.entry], argv: a, args, labOptions, runDir: await prepareRunDir(a) });
    }
    return labCommand(chosen.entry, chosen.argv, args);
  }
  return EXIT.ran;
}

/** Exit once everything written to stdout and stderr has reached the pipe (a big --json into `| jq` must not be cut). */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(hideBin(process.argv)).then(exitAfterFlush, (err) => {
  if (err instanceof UserError) {
    process.stderr.write(`lab: ${err.message}\n`);
    return exitAfterFlush(err.exitCode);
  }
  process.stderr.write(`lab: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  exitAfterFlush(EXIT.error);
});
