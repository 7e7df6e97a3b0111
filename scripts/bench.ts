// Benchmarks: npm run bench -- <what> [options] (npm run bench -- --help lists them). Each measures the
// harness side by side with a reference in the same run (a C program, ss alone, bare Node, the longest lab)
// and prints ratios; the numbers in the README come from here.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BenchUsage } from './bench/util.ts';
import { strict } from '../harness/cli/flags.ts';

type Run = () => Promise<void>;
let chosen: Run | undefined;

const whole = (name: string, min: number, max: number) => (v: unknown) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new BenchUsage(`--${name} takes a whole number from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return n;
};

const runs = (y: Argv, dflt: number) => y.option('runs', { type: 'number', default: dflt, describe: 'measurements of each kind', coerce: whole('runs', 1, 100) });

const bench = yargs(hideBin(process.argv))
  .scriptName('npm run bench --')
  .usage('Usage: npm run bench -- <what> [options]\n\nMeasures the harness side by side with a reference, in one run, and prints ratios.')
  .command('labs [lab..]', 'wall time of `npm run lab <lab>` (start to exit) and the lab\'s own time; --capture: what packet capture costs', (y) =>
    runs(y, 5)
      .positional('lab', { type: 'string', array: true, describe: "labs to time ('all': every lab; default time-wait-restart)" })
      .option('capture', { type: 'boolean', default: false, describe: 'run each lab with and without capture, interleaved, and report the difference' }),
  (a) => void (chosen = async () => (await import('./bench/labs.ts')).labsBench({ labs: (a.lab as string[] | undefined) ?? [], runs: a.runs as number, capture: !!a.capture })))
  .command('startup [lab]', 'start-up: `npm run lab <lab>` minus the lab\'s own time, against bare Node and Node in a fresh sandbox', (y) =>
    runs(y, 5).positional('lab', { type: 'string', default: 'kernel-defaults', describe: 'a quick lab' }),
  (a) => void (chosen = async () => (await import('./bench/startup.ts')).startupBench({ lab: a.lab as string, runs: a.runs as number })))
  .command('churn', 'connection churn: the harness against a C program making the same system calls (compiled here)', (y) =>
    y.option('connections', { type: 'number', default: 10000, describe: 'connections each side makes in a round, after its warm-up', coerce: whole('connections', 100, 25000) })
      .option('chunk', { type: 'number', default: 500, describe: 'connections per turn (the two sides take turns)', coerce: whole('chunk', 50, 25000) })
      .option('rounds', { type: 'number', default: 3, describe: 'rounds (each starts the harness and C in fresh sandboxes)', coerce: whole('rounds', 1, 50) })
      .option('before', { type: 'boolean', default: true, describe: "also measure Node's net module, the harness's churn before the libc loop" }),
  (a) => void (chosen = async () => (await import('./bench/churn.ts')).churnBench({ connections: a.connections as number, chunk: a.chunk as number, rounds: a.rounds as number, before: !!a.before })))
  .command('snapshot', 'snapshot cost with N sockets present against `ss -tanoH` alone; a filtered poll against a full read', (y) =>
    y.option('sockets', { type: 'number', default: 30000, describe: 'TIME-WAIT sockets to make first', coerce: whole('sockets', 100, 60000) })
      .option('rounds', { type: 'number', default: 7, describe: 'measurements of each kind', coerce: whole('rounds', 1, 50) }),
  (a) => void (chosen = async () => (await import('./bench/snapshot.ts')).snapshotBench({ sockets: a.sockets as number, rounds: a.rounds as number })))
  .command('suite', 'wall time of `npm run lab all` against its longest lab', (y) =>
    y.option('jobs', { type: 'number', describe: 'passed on to npm run lab all --jobs', coerce: whole('jobs', 1, 64) })
      .option('capture', { type: 'boolean', default: true, describe: 'packet capture in the suite (--no-capture: none)' }),
  (a) => void (chosen = async () => (await import('./bench/suite.ts')).suiteBench({ jobs: a.jobs as number | undefined, capture: !!a.capture })))
  .command('memory [lab..]', 'peak memory of `npm run lab <lab>` (the largest process and the whole tree) against bare Node', (y) =>
    runs(y, 3).positional('lab', { type: 'string', array: true, describe: "labs ('all': the whole suite in one run; default kernel-defaults and server-close-pileup)" }),
  (a) => void (chosen = async () => (await import('./bench/memory.ts')).memoryBench({ labs: (a.lab as string[] | undefined) ?? [], runs: a.runs as number })))
  .command('stability [lab..]', 'every lab (or those named) N times through npm run lab --repeat, with busy loops beside it: does each claim get one verdict in all runs?', (y) =>
    y.option('runs', { type: 'number', default: 20, describe: 'runs of each lab', coerce: whole('runs', 1, 100) })
      .positional('lab', { type: 'string', array: true, describe: "labs to run ('all' or none: every lab)" })
      .option('busy', { type: 'number', default: 2, describe: 'busy loops (processes spinning for (;;) {}) running beside the labs', coerce: whole('busy', 0, 16) })
      .option('jobs', { type: 'number', describe: 'passed on to npm run lab --jobs', coerce: whole('jobs', 1, 64) })
      .option('capture', { type: 'boolean', default: true, describe: 'packet capture in the labs (--no-capture: none)' })
      .option('keep', { type: 'boolean', default: false, describe: 'keep the run folder (with stability.md) instead of removing it' }),
  (a) => void (chosen = async () => (await import('./bench/stability.ts')).stabilityBench({ labs: (a.lab as string[] | undefined) ?? [], runs: a.runs as number, busy: a.busy as number, jobs: a.jobs as number | undefined, capture: !!a.capture, keep: !!a.keep })))
  .demandCommand(1, 'name what to measure (see --help)');
await strict(
  bench,
  (msg) => {
    process.stderr.write(`bench: ${msg} (see npm run bench -- --help)\n`);
    process.exit(2);
  },
  (err) => err instanceof BenchUsage,
)
  .parseAsync();

try {
  await chosen?.();
} catch (err) {
  if (!(err instanceof BenchUsage)) throw err;
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(2);
}
