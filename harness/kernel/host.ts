// A host is a network namespace the lab can look into: its name (for labels) and how to run a command there.
import { run } from './exec.ts';
import { streamRun } from './stream.ts';

export interface Host {
  /** label used on snapshots and events: "sandbox", later "client" / "server" */
  name: string;
  /** run a command inside this host's network namespace and return its stdout */
  exec(file: string, args: readonly string[]): Promise<string>;
  /** the command's stdout handed over as it arrives (readSockets parses ss while it prints) */
  stream?(file: string, args: readonly string[], onText: (text: string) => void): Promise<void>;
}

/** The namespace this process itself lives in (the runner's sandbox). */
export function localHost(name = 'sandbox'): Host {
  return { name, exec: (file, args) => run(file, args), stream: (file, args, onText) => streamRun(file, args, onText) };
}
