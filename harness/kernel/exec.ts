// The one way the harness runs short external commands (ss, ip, nft, unshare), failures as CommandError:
// posix_spawn through the FFI (spawn.ts), or node:child_process where that cannot be had. Not execa: it costs
// ~3 ms more CPU per call here (ss -tanH, 100 calls: 5.3-6.0 ms against 2.3 ms in Node) and every wait polls ss,
// and loading it is ~45 ms of each CLI and runner start. execa runs the long-lived processes (actors/actors.ts)
// and the guest tooling (guest/).
import { execFile } from 'node:child_process';
import { CommandError } from '../errors.ts';
import { deadline } from './pace.ts';
import { canSpawnFast, spawnFast, type CommandOptions, type CommandResult } from './spawn.ts';

export type { CommandOptions, CommandResult };

/** ss with 30,000 sockets prints a few MB; nothing the harness runs prints more than this */
const MAX_OUTPUT = 256 << 20;

/** Run a command to its end; never rejects (what went wrong is in the result). */
export function runCommand(file: string, args: readonly string[], o: CommandOptions = {}): Promise<CommandResult> {
  return canSpawnFast() ? spawnFast(file, args, o) : runWithChildProcess(file, args, o);
}

/** runCommand through node:child_process (a fork): where posix_spawn cannot be had through the FFI. */
export function runWithChildProcess(file: string, args: readonly string[], o: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: MAX_OUTPUT, timeout: o.timeoutMs, killSignal: 'SIGKILL', env: o.env }, (err, stdout, stderr) => {
      if (!err) return resolve({ exitCode: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
      if (typeof e.code === 'number') return resolve({ exitCode: e.code, stdout, stderr });
      const problem =
        e.code === 'ENOENT' ? `${file}: not found`
        : typeof e.code === 'string' ? e.message // a spawn failure, or more output than MAX_OUTPUT
        : e.killed && o.timeoutMs !== undefined && e.signal === 'SIGKILL' ? `timed out after ${o.timeoutMs} ms`
        : e.signal ? `killed by ${e.signal}`
        : e.message;
      resolve({ stdout, stderr, problem });
    });
    child.stdin?.on('error', () => {}); // a command that exits without reading its input
    child.stdin?.end(o.input);
  });
}

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
