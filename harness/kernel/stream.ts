// Run a command and hand its output over as it arrives, so the reader works while the command still writes:
// ss prints a 30,000-socket dump over its last ~30 ms, and parsing it meanwhile hides most of the parse.
// Failures are CommandErrors worded as run() words them (exec.ts). Started with posix_spawn (spawn.ts) where the
// FFI has it, else with child_process.
import { CommandError } from '../errors.ts';
import { deadline } from './pace.ts';
import { startCommand } from './spawn.ts';

export interface StreamOptions {
  /** kill the command after this long (default 10 s, as run()) */
  timeoutMs?: number;
}

/** Run file with args; `onText` gets stdout as text, piece by piece, in order; resolves once it exited 0. */
export function streamRun(file: string, args: readonly string[], onText: (text: string) => void, o: StreamOptions = {}): Promise<void> {
  const shown = [file, ...args].join(' ');
  const p = startCommand(file, args);
  if (!('kill' in p)) return Promise.reject(new CommandError(shown, p.problem, undefined));
  const timeoutMs = deadline(o.timeoutMs ?? 10_000);
  return new Promise((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!err) return resolve();
      // no waiting for the pipes: a child of the command may hold them open (the command is reaped meanwhile)
      p.kill();
      p.stdout.destroy();
      p.stderr.destroy();
      void p.reaped();
      reject(err);
    };
    const timer = setTimeout(() => settle(new CommandError(shown, `timed out after ${timeoutMs} ms`, undefined)), timeoutMs);
    p.stdout.setEncoding('utf8'); // a character split between two pieces is kept whole
    p.stdout.on('data', (text: string) => {
      if (settled) return;
      try {
        onText(text);
      } catch (err) {
        settle(err as Error); // the reader's own error (a line it cannot parse), passed on as it is
      }
    });
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (text: string) => (stderr += text));
    void p.reaped().then((end) => settle(end.exitCode === 0 ? undefined : new CommandError(shown, stderr || end.problem || `ended by ${end.signal}`, end.exitCode)));
  });
}
