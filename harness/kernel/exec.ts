// The one way the harness runs external commands: execa underneath, failures as CommandError.
import { execa } from 'execa';
import { CommandError } from '../errors.ts';
import { deadline } from './pace.ts';

/** Run a command to completion and return its stdout; throw CommandError naming it if it fails. */
export async function run(file: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const shown = [file, ...args].join(' ');
  try {
    const r = await execa(file, args, { input: opts.input, timeout: deadline(opts.timeoutMs ?? 10_000), stripFinalNewline: false });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; exitCode?: number; code?: string; shortMessage?: string };
    const said = e.code === 'ENOENT' ? `${file}: not found` : (e.stderr || e.stdout || e.shortMessage || String(err));
    throw new CommandError(shown, said, e.exitCode, { cause: err });
  }
}

/** PATH plus the sbin folders, where ip and nft live but which a non-root user's PATH often lacks. */
export function toolPath(base = process.env.PATH ?? ''): string {
  const dirs = base.split(':').filter(Boolean);
  for (const extra of ['/usr/sbin', '/sbin']) if (!dirs.includes(extra)) dirs.push(extra);
  return dirs.join(':');
}

/** Where a program is on toolPath(), or undefined; used by preflight checks and `needs` of labs. */
export async function which(program: string): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  for (const dir of toolPath().split(':')) {
    const p = `${dir}/${program}`;
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}
