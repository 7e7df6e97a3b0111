// Entry point of the process that lives inside a lab's sandbox (started by harness/sandbox.ts under unshare).
// It runs one lab and sends progress and the result to its parent over the IPC channel. It dies with its
// parent (PR_SET_PDEATHSIG), and the namespace dies with it, so nothing can outlive an interrupted run.
import { readlinkSync } from 'node:fs';
import { run } from '../kernel/exec.ts';
import { stopController } from '../kernel/wait.ts';
import { executeLab } from '../lab/execute.ts';
import { dieWithParent } from '../kernel/ffi.ts';
import { localHost } from '../kernel/host.ts';
import { prewarmCapture } from '../kernel/capture.ts';
import { liveView } from '../evidence/live.ts';
import { parseOptions } from '../lab/options.ts';
import { loadLabModule } from './registry.ts';
import type { LabMessage } from '../lab/context.ts';

export interface RunnerJob {
  name: string;
  module: string;
  options: Record<string, unknown>;
  /** folder for the pcap files (one per namespace); absent: no capture */
  captureDir?: string;
}

/** Messages on the runner's IPC channel: lab progress, then exactly one result. */
export type RunnerMessage = LabMessage | { type: 'result'; result: import('../evidence/records.ts').LabResult };

function send(m: RunnerMessage): void {
  if (!process.connected) return;
  if (m.type !== 'snapshot') return void process.send!(m);
  // the live report needs the census and the first focused lines; result.json still gets every record
  const v = liveView(m.snapshot.sockets, m.focus);
  process.send!({ ...m, snapshot: { ...m.snapshot, sockets: v.sockets }, census: v.census, matched: v.matched });
}

async function main(): Promise<void> {
  dieWithParent();
  if (String(process.ppid) !== process.env.TCP_LAB_PARENT_PID) process.exit(70); // parent already gone
  const hostNetns = process.env.TCP_LAB_HOST_NETNS;
  if (!hostNetns || readlinkSync('/proc/self/ns/net') === hostNetns) {
    throw new Error('refusing to run: this process is not in a network namespace of its own');
  }
  const job = JSON.parse(process.argv[2] ?? '{}') as RunnerJob;
  const ac = stopController();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => ac.abort(`interrupted by ${sig}`));
  process.on('disconnect', () => {
    ac.abort('the harness went away');
    setTimeout(() => process.exit(1), 3000).unref();
  });
  if (job.captureDir) prewarmCapture(); // its thread starts while the lab's module loads
  await run('ip', ['link', 'set', 'lo', 'up']);
  const def = await loadLabModule(job.module);
  const options = parseOptions(job.name, def.options, job.options);
  const result = await executeLab(job.name, def, options, localHost('sandbox'), send, ac.signal, job.captureDir);
  // sockets a lab forgot, if any, die with the process and its namespace
  if (!process.connected) process.exit(0);
  process.send!({ type: 'result', result } satisfies RunnerMessage, () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`runner: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
