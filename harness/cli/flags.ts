// Options and checks shared by the CLI's ways of running labs (one lab, several, on other kernels).
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { quote, UserError } from '../errors.ts';
import type { LabDefinition } from '../lab/define.ts';
import type { OptionSpecs } from '../lab/options.ts';
import { shortSource } from '../report/format.ts';
import { createRunDir, DEFAULT_RESULTS_DIR } from '../results/store.ts';

export function addLabOptions(y: Argv, def: LabDefinition): Argv {
  for (const [name, spec] of Object.entries(def.options as OptionSpecs)) {
    y.option(name, {
      describe: `${spec.describe} [${spec.accepted}]`,
      type: spec.kind === 'flag' ? 'boolean' : 'string',
      requiresArg: spec.kind !== 'flag',
      defaultDescription: spec.default === undefined ? undefined : Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default),
    });
  }
  return y.epilogue(`${def.setup}\n\nClaims tested:\n${Object.entries(def.claims).map(([id, [source, statement]]) => `  - ${id} [${shortSource(source)}] ${statement}`).join('\n')}`);
}

/** Make sure results can be written before a lab runs (a user mistake there is exit 2, not a lost run). */
export async function prepareRunDir(argv: Record<string, unknown>): Promise<string> {
  const root = path.resolve(String(argv['results-dir'] ?? DEFAULT_RESULTS_DIR));
  try {
    return await createRunDir(root);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new UserError(`cannot write results under ${quote(root)} (${why}): pass --results-dir <a folder you can write>`);
  }
}

/** Global options yargs would bend rather than refuse: --results-dir twice or empty, --json=<not a boolean>. */
export function checkGlobalOptions(args: readonly string[], argv: Record<string, unknown>): void {
  const dir = argv['results-dir'];
  if (Array.isArray(dir)) throw new UserError(`option --results-dir: given ${dir.length} times; give it once`);
  if (dir !== undefined && String(dir).trim() === '') throw new UserError("option --results-dir: '' is not valid; expected a folder");
  for (const a of args) {
    const m = /^--(?:no-)?(json|capture)=(.*)$/s.exec(a);
    if (m && m[2] !== 'true' && m[2] !== 'false') throw new UserError(`option --${m[1]}: ${quote(m[2])} is not valid; expected true or false (or just --${m[1]})`);
  }
  if (Array.isArray(argv.json)) throw new UserError('option --json: given more than once; give it once');
  if (Array.isArray(argv.capture)) throw new UserError('option --capture: given more than once; give it once');
}

/** yargs' own messages echo raw input: escape control characters and shorten long words. */
export function tame(message: string): string {
  return message.replace(/\s+/g, ' ').trim().split(' ').map((w) => (/[\u0000-\u001f\u007f-\u009f]/.test(w) || w.length > 60 ? quote(w) : w)).join(' ');
}

/** The options of every run: --json, --results-dir, --capture. */
export function runFlags(y: Argv, json: string): Argv {
  return y
    .option('json', { type: 'boolean', describe: json })
    .option('results-dir', { type: 'string', requiresArg: true, describe: 'folder for run folders', defaultDescription: 'results/' })
    .option('capture', { type: 'boolean', describe: 'record a pcap per host beside result.json and draw its packet ladder (--no-capture: none)', default: true });
}

/**
 * The parsing rules every command line here shares: unknown options refused, --help/-h, no --version, wrapped to
 * the terminal; a mistake goes to `mistake` with yargs' message (an error that is not yargs' own is rethrown).
 */
export function strict(y: Argv, mistake: (message: string) => never, passes: (err: Error) => boolean = () => false): Argv {
  return y
    .strict()
    .version(false)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, yargs().terminalWidth()))
    .fail((msg, err) => {
      if (err && err.name !== 'YError' && !passes(err)) throw err;
      mistake(msg || err?.message || 'bad arguments');
    });
}
