// The command line of a run on other kernels: `npm run lab <lab...> -- --kernel <version> [--kernel host]`.
// Everything is checked (labs, lab options, --jobs, kernels present, qemu installed) before a guest boots.
import { availableParallelism } from 'node:os';
import yargs, { type Argv } from 'yargs';
import { quote, UserError } from '../errors.ts';
import { parseOptions, type OptionSpecs } from '../lab/options.ts';
import { findLab, listLabs } from '../runs/registry.ts';
import { preflight } from '../runs/sandbox.ts';
import { addLabOptions, checkGlobalOptions, prepareRunDir, runFlags, strict, tame } from './flags.ts';
import { suiteFlags, suiteOptions, wholeOption } from './suite.ts';

const ACCELS = ['auto', 'kvm', 'tcg'] as const;

/** Does the command line ask for other kernels? */
export function wantsKernels(args: readonly string[]): boolean {
  return args.some((a) => a === '--kernel' || a.startsWith('--kernel='));
}

export function kernelFlags(y: Argv): Argv {
  return y
    .option('kernel', { type: 'string', array: true, requiresArg: true, describe: "run the labs on this kernel (repeatable): a version added with 'npm run lab kernels -- add <version>', an exact release, or host" })
    .option('accel', { type: 'string', requiresArg: true, describe: 'how guests run: kvm, tcg (QEMU emulation) or auto (KVM where it works)', defaultDescription: 'auto' })
    .option('guest-cpus', { type: 'string', requiresArg: true, describe: "each guest's virtual CPUs (its labs run that many at once unless --jobs says otherwise); 1 costs less CPU on a busy machine", defaultDescription: `this machine's cores, at most 4 (here ${Math.min(4, availableParallelism())})` })
    .option('guest-timeout', { type: 'string', requiresArg: true, describe: 'stop a guest that has not finished after this many seconds', defaultDescription: '3 min + per lab 40x its time hint, at least 90 s' });
}

/** The inner CLI's arguments: the lab names and options, --no-capture, --jobs, --repeat; nothing about kernels or output. */
function innerArgs(names: string[], argv: Record<string, unknown>, specs: OptionSpecs | undefined, o: { jobs: number; repeat: number }): string[] {
  const out = [...names];
  for (const [name, spec] of Object.entries(specs ?? {})) {
    const v = argv[name];
    if (v === undefined) continue;
    if (spec.kind === 'flag') out.push(v === true ? `--${name}` : `--no-${name}`);
    else out.push(`--${name}`, String(v));
  }
  if (argv.capture === false) out.push('--no-capture');
  if (argv.jobs !== undefined) out.push('--jobs', String(o.jobs)); // else the guest's own core count
  if (o.repeat > 1) out.push('--repeat', String(o.repeat));
  return out;
}

/** Parse, check and run; resolves with the exit code. */
export async function kernelMain(names: string[], args: string[]): Promise<number> {
  if (!names.length) throw new UserError("name the labs to run on the kernel, e.g. 'npm run lab time-wait-restart -- --kernel 6.1' (or 'all')");
  if (names.includes('all') && names.length > 1) throw new UserError("'all' runs every lab: name no other lab with it");
  const entries = names[0] === 'all' ? await listLabs() : await Promise.all([...new Set(names)].map((n) => findLab(n)));
  const single = entries.length === 1 && names[0] !== 'all' ? entries[0] : undefined;
  let argv: Record<string, unknown> = {};
  const y = kernelFlags(suiteFlags(yargs(args.slice(names.length))))
    .scriptName('npm run lab --')
    .usage('Usage: npm run lab <lab> [<lab> ...|all] -- --kernel <version> [--kernel host] [options]\n\nRuns the labs on other kernels, each in a QEMU guest booted from it (or on this machine for host), into one run folder, and shows the verdicts by kernel.');
  runFlags(y, 'print the results as a JSON array on stdout instead of the report');
  if (single) addLabOptions(y, single.def);
  await strict(y, (msg) => {
    throw new UserError(`${tame(msg)}${!single && /Unknown argument/.test(msg) ? ' (lab options need a single lab)' : ''} (see --help)`);
  })
    .parseAsync()
    .then((a) => (argv = a as Record<string, unknown>));
  if (argv.help) return 0;
  checkGlobalOptions(args, argv);
  const o = suiteOptions(argv);
  if (single) parseOptions(single.name, single.def.options, Object.fromEntries(Object.keys(single.def.options).filter((k) => argv[k] !== undefined).map((k) => [k, argv[k]])));
  const accel = argv.accel ?? 'auto';
  if (Array.isArray(accel)) throw new UserError('option --accel: given more than once; give it once');
  if (!ACCELS.includes(accel as (typeof ACCELS)[number])) throw new UserError(`option --accel: ${quote(String(accel))} is not valid; expected one of ${ACCELS.join(', ')}`);
  const t = argv['guest-timeout'];
  if (t !== undefined && (Array.isArray(t) || !/^\s*\d+\s*$/.test(String(t)) || Number(t) < 10)) throw new UserError(`option --guest-timeout: ${quote(String(t))} is not valid; expected whole seconds, at least 10`);
  const c = argv['guest-cpus'];
  const chosenCpus = c === undefined ? undefined : wholeOption('guest-cpus', c, 1, availableParallelism(), 1, "this machine's cores");
  const specs = ((argv.kernel as unknown[]) ?? []).map((k) => String(k).trim());
  if (!specs.length || specs.some((s) => !s)) throw new UserError("option --kernel: expected a kernel version (e.g. 6.1), a release, or host; 'npm run lab kernels' lists them");
  // the guest code (and QEMU's set-up) is loaded only by a run that asks for kernels: the CLI starts faster
  const [{ kernelRunCommand, resolveKernels }, { guestPreflight }, { defaultCpus }] = await Promise.all([import('./kernel-run.ts'), import('../guest/boot.ts'), import('../guest/qemu.ts')]);
  const cpus = chosenCpus ?? defaultCpus();
  const targets = await resolveKernels(specs);
  await preflight();
  if (targets.some((k) => k.spec !== 'host')) await guestPreflight();
  return kernelRunCommand({
    entries,
    inner: innerArgs(names[0] === 'all' ? ['all'] : entries.map((e) => e.name), argv, single?.def.options as OptionSpecs | undefined, o),
    targets,
    accel: accel as (typeof ACCELS)[number],
    ...(t !== undefined ? { timeoutMs: Number(t) * 1000 } : {}),
    cpus,
    guestJobs: argv.jobs !== undefined ? o.jobs : cpus,
    repeat: o.repeat,
    runDir: await prepareRunDir(argv),
    args,
    json: argv.json === true,
    ...(o.reporter ? { reporter: o.reporter } : {}),
    ...(o.reporterOut ? { reporterOut: o.reporterOut } : {}),
  });
}
