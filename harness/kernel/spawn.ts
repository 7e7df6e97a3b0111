// Starting the short commands (ss above all: every poll of a wait is one) with posix_spawn(3) through the FFI.
// Node's child_process forks, which copies the page tables of the whole process: in a runner that has touched
// ~60 MB that is ~5.4 ms of Node CPU per `ss -tanH` and 12.7 ms wall, against ~1.1 ms and 5.0 ms here (glibc
// spawns with CLONE_VFORK: nothing is copied; 200 calls each, measured side by side). Output arrives on pipes
// read by the event loop (posix-spawn.ts). Where the FFI or glibc's posix_spawn is missing, child_process starts
// the command behind the same handle.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { canPosixSpawn, spawnPiped, type Ended, type Spawned, type StartOptions } from './posix-spawn.ts';

export type { Ended, Spawned, StartOptions } from './posix-spawn.ts';

/** What running a command takes: what starting it takes (its input, its environment) and a timeout. */
export interface CommandOptions extends StartOptions {
  /** kill it (SIGKILL) after this many ms */
  timeoutMs?: number;
}

export interface CommandResult {
  /** exit status; undefined when it was killed or never started */
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** why it did not run to an exit status: "not found", "timed out after 5000 ms", "killed by SIGTERM", a spawn error */
  problem?: string;
}

let forced = false;
/** Use child_process even where posix_spawn is there (the tests run both ways; returns the previous setting). */
export function preferChildProcess(on: boolean): boolean {
  const was = forced;
  forced = on;
  return was;
}

/** Will startCommand use posix_spawn (it can here, and no test asked for child_process)? */
export function canSpawnFast(): boolean {
  return !forced && canPosixSpawn();
}

/** Start a command: posix_spawn where it can be had, else child_process; stdin is `input`, or /dev/null without it. */
export function startCommand(file: string, args: readonly string[], o: StartOptions = {}): Spawned | { problem: string } {
  return canSpawnFast() ? spawnPiped(file, args, o) : viaChildProcess(file, args, o);
}

/** The same handle over child_process: reaped() once it exited and its pipes closed ('close'), or failed to start. */
function viaChildProcess(file: string, args: readonly string[], o: StartOptions): Spawned {
  const child = spawn(file, args, { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: o.env });
  if (o.input !== undefined) {
    child.stdin!.on('error', () => {}); // a command that exits without reading all of its input
    child.stdin!.end(o.input);
  }
  const ended = new Promise<Ended>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ problem: err.code === 'ENOENT' ? `${file}: not found` : err.message }));
    child.on('close', (code, signal) => resolve(code !== null ? { exitCode: code } : { signal: signal ?? undefined }));
  });
  return { stdout: child.stdout!, stderr: child.stderr!, kill: () => void child.kill('SIGKILL'), reaped: () => ended };
}

function collect(s: Readable): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Run a command to its end (startCommand's way); never rejects: what went wrong is in the result. */
export async function runCommand(file: string, args: readonly string[], o: CommandOptions = {}): Promise<CommandResult> {
  const p = startCommand(file, args, o);
  if (!('kill' in p)) return { stdout: '', stderr: '', problem: p.problem };
  let timedOut = false;
  const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), p.kill()), o.timeoutMs);
  const [stdout, stderr, end] = await Promise.all([collect(p.stdout), collect(p.stderr), p.reaped()]);
  clearTimeout(timer);
  if (end.exitCode !== undefined) return { exitCode: end.exitCode, stdout, stderr };
  const problem = end.problem ?? (timedOut && end.signal === 'SIGKILL' ? `timed out after ${o.timeoutMs} ms` : `killed by ${end.signal}`);
  return { stdout, stderr, problem };
}
