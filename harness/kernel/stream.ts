// Run a command and hand its output over as it arrives, so the reader works while the command still writes:
// ss prints a 30,000-socket dump over its last ~30 ms, and parsing it meanwhile hides most of the parse.
// Failures are CommandErrors worded as run() words them (exec.ts).
import { spawn } from 'node:child_process';
import { CommandError } from '../errors.ts';
import { deadline } from './pace.ts';

export interface StreamOptions {
  /** kill the command after this long (default 10 s, as run()) */
  timeoutMs?: number;
}

/** Run file with args; `onText` gets stdout as text, piece by piece, in order; resolves once it exited 0. */
export function streamRun(file: string, args: readonly string[], onText: (text: string) => void, o: StreamOptions = {}): Promise<void> {
  const shown = [file, ...args].join(' ');
  const timeoutMs = deadline(o.timeoutMs ?? 10_000);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!err) return resolve();
      // no waiting for the pipes: a child of the command may hold them open
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      reject(err);
    };
    const timer = setTimeout(() => settle(new CommandError(shown, `timed out after ${timeoutMs} ms`, undefined)), timeoutMs);
    child.stdout.setEncoding('utf8'); // a character split between two pieces is kept whole
    child.stdout.on('data', (text: string) => {
      if (settled) return;
      try {
        onText(text);
      } catch (err) {
        settle(err as Error); // the reader's own error (a line it cannot parse), passed on as it is
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    child.on('error', (err: NodeJS.ErrnoException) => settle(new CommandError(shown, err.code === 'ENOENT' ? `${file}: not found` : err.message, undefined, { cause: err })));
    child.on('close', (code, signal) => settle(code === 0 ? undefined : new CommandError(shown, stderr || `ended by ${signal}`, code ?? undefined)));
  });
}
