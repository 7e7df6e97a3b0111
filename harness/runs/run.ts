// Library entry point on the host side: run a lab in its own sandbox and get its LabResult.
// The CLI is a thin layer over this; tests and other tools call it directly.
import type { LabMessage } from '../lab/context.ts';
import { kernelName } from '../lab/execute.ts';
import { parseOptions } from '../lab/options.ts';
import { judgeEvidence } from '../lab/verdicts.ts';
import { SCHEMA_VERSION } from '../evidence/records.ts';
import { findLab, type LabEntry } from './registry.ts';
import type { LabResult } from '../evidence/records.ts';
import type { RunnerMessage } from './runner.ts';
import { preflight, spawnRunner } from './sandbox.ts';

export interface RunLabRequest {
  /** a lab name from labs/, or an entry (tests pass fixtures this way) */
  lab: string | LabEntry;
  options?: Record<string, unknown>;
  onMessage?: (m: LabMessage) => void;
  /** the runner's own stderr/stdout lines, prefixed "[runner]" */
  onOutput?: (line: string) => void;
  /** abort = interrupt the lab (it tears down and reports outcome "error", reason interrupted) */
  signal?: AbortSignal;
  /** called once the runner process exists (tests use its pid) */
  onSpawn?: (pid: number) => void;
}

/** Run one lab in a fresh sandbox; resolves with its result (outcome "error" if the runner died). */
export async function runLab(req: RunLabRequest): Promise<LabResult> {
  const entry = typeof req.lab === 'string' ? await findLab(req.lab) : req.lab;
  const options = parseOptions(entry.name, entry.def.options, req.options ?? {});
  await preflight();
  const started = new Date();
  const failed = (reason: string): LabResult => ({
    schemaVersion: SCHEMA_VERSION,
    lab: entry.name,
    title: entry.title,
    outcome: 'error',
    reason,
    kernel: kernelName(),
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    sysctls: {},
    options,
    claims: judgeEvidence(entry.def, undefined, options, 'the lab did not finish'),
    snapshots: [],
    events: [],
    tables: [],
  });
  if (req.signal?.aborted) return failed(`interrupted by ${String(req.signal.reason)} before the lab started`);
  const child = spawnRunner({ name: entry.name, module: entry.module, options });
  if (child.pid !== undefined) req.onSpawn?.(child.pid);
  const output: string[] = [];
  const onText = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      output.push(line);
      req.onOutput?.(`[runner] ${line}`);
    }
  };
  child.stdout?.on('data', onText);
  child.stderr?.on('data', onText);
  let result: LabResult | undefined;
  child.on('message', (m: RunnerMessage) => {
    if (m.type === 'result') result = m.result;
    else req.onMessage?.(m);
  });
  // the runner stops the same way whichever of these it gets; pass on the one the run was stopped with
  const interrupt = () => child.kill((['SIGINT', 'SIGTERM', 'SIGHUP'] as const).find((x) => x === req.signal?.reason) ?? 'SIGINT');
  req.signal?.addEventListener('abort', interrupt, { once: true });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      output.push(err.message);
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  req.signal?.removeEventListener('abort', interrupt);
  if (result) return result;
  const how = req.signal?.aborted
    ? `was stopped (interrupted by ${String(req.signal.reason)})`
    : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return failed(`the lab's sandbox process ${how} before reporting a result${output.length ? `: ${output.slice(-3).join(' | ')}` : ''}`);
}
