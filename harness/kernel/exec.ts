// The one way the harness runs short external commands (ss, ip, nft, unshare), failures as CommandError:
// posix_spawn through the FFI (spawn.ts), or node:child_process where that cannot be had. Not execa: it costs
// ~3 ms more CPU per call here (ss -tanH, 100 calls: 5.3-6.0 ms against 2.3 ms in Node) and every wait polls ss,
// and loading it is ~45 ms of each CLI and runner start. execa runs the long-lived processes (actors/actors.ts)
// and the guest tooling (guest/).
import { CommandError } from '../errors.ts';
import { deadline } from './pace.ts';
import { runCommand } from './spawn.ts';

export { runCommand, type CommandOptions, type CommandResult } from './spawn.ts';

/** Run a command to completion and return its stdout; throw CommandError naming it if it fails. */
export async function run(file: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await runCommand(file, args, { input: opts.input, timeoutMs: deadline(opts.timeoutMs ?? 10_000) });
  if (r.exitCode === 0) return r.stdout;
  throw new CommandError([file, ...args].join(' '), r.problem ?? (r.stderr || r.stdout), r.exitCode);
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
