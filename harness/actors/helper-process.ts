// A small dedicated child process that speaks JSON lines on stdout (and takes one-word commands on stdin),
// for labs that need a socket owner with its own limits (prlimit) or its own pid. It dies with the runner:
// the child calls dieWithParent() itself and teardown kills it. Its script is started as actors are (launch.ts):
// from an esbuild bundle with plain node, the tsx loader only as the fallback.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Recorder } from '../kernel/recorder.ts';
import { until } from '../kernel/wait.ts';
import { scriptLaunch } from './launch.ts';

export type HelperMessage = { type: string } & Record<string, unknown>;

export interface HelperProcess {
  proc: ChildProcess;
  pid: number;
  /** every message received so far, in order */
  messages: HelperMessage[];
  /** wait for the first message after index `from` that matches */
  next(what: string, match: (m: HelperMessage) => boolean, o?: { timeoutMs?: number; from?: number }): Promise<HelperMessage>;
  /** send a one-line command on stdin */
  send(command: string): void;
}

/** Start the TypeScript `script` with node (bundled, else through tsx), optionally behind a wrapper (e.g. prlimit), killed at teardown. */
export async function startHelper(ctx: Recorder, name: string, script: string, args: string[], wrapper: string[] = []): Promise<HelperProcess> {
  const launch = await scriptLaunch(script);
  const node = [process.execPath, ...launch.args, ...args];
  const argv = [...wrapper, ...node];
  // its own process group: Ctrl-C reaches the lab, which stops it; it still dies with the lab (PR_SET_PDEATHSIG)
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  ctx.defer(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const messages: HelperMessage[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        messages.push(JSON.parse(line) as HelperMessage);
      } catch {
        ctx.note(`[${name}] ${line}`);
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) ctx.note(`[${name}] ${line}`);
  });
  const spawned = await new Promise<number>((resolve, reject) => {
    proc.once('spawn', () => resolve(proc.pid!));
    proc.once('error', reject);
  });
  const how = launch.how === 'bundle' ? 'bundled script' : `tsx loader${launch.note ? ` (no bundle: ${launch.note})` : ''}`;
  ctx.event('helper-spawn', `[${name}] started, pid ${spawned}, ${how}`, { helper: name, pid: spawned, launch: launch.how });
  const next: HelperProcess['next'] = (what, match, o = {}) =>
    until<HelperMessage, HelperMessage[]>(
      async () => {
        const m = messages.slice(o.from ?? 0).find(match);
        if (m) return { done: true, value: m };
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) while waiting for ${what}`);
        return { done: false, last: messages };
      },
      { what: `${what} from ${name}`, timeoutMs: o.timeoutMs ?? 5000, signal: ctx.signal, describe: (l) => JSON.stringify(l?.slice(-3) ?? []) },
    );
  return { proc, pid: spawned, messages, next, send: (c) => proc.stdin!.write(`${c}\n`) };
}
