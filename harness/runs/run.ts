// Library entry point on the host side: run a lab in its own sandbox and get its LabResult.
// The CLI is a thin layer over this; tests and other tools call it directly.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readPcap, type PcapFrame } from '../evidence/packets-pcap.ts';
import type { LabMessage } from '../lab/context.ts';
import { kernelName, ranOn } from '../evidence/identity.ts';
import { parseOptions } from '../lab/options.ts';
import { judgeEvidence } from '../lab/verdicts.ts';
import { SCHEMA_VERSION } from '../evidence/records.ts';
import { findLab, type LabEntry } from './registry.ts';
import type { CaptureRecord, LabResult } from '../evidence/records.ts';
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
  /** write one pcap per namespace into this (existing) folder; absent: no capture */
  captureDir?: string;
}

/**
 * The pcaps a runner wrote before it died without a result (killed, crashed): kept, and recorded as cut short,
 * so the packets of an interrupted run are not lost with its result.
 */
function leftCaptures(dir: string | undefined, started: Date, reason: string): Pick<LabResult, 'captures'> {
  if (!dir) return {};
  const captures: CaptureRecord[] = [];
  for (const file of readdirSafe(dir).filter((f) => /^capture-.*\.pcap$/.test(f)).sort()) {
    let frames: PcapFrame[] = [];
    let error = `cut short: ${reason}`;
    try {
      const read = readPcap(readFileSync(path.join(dir, file)), { partial: true });
      frames = read.frames;
      if (read.cut) error += `; its last record is incomplete (${read.cut})`;
    } catch (err) {
      error += `; the file does not read (${err instanceof Error ? err.message : String(err)})`;
    }
    captures.push({
      host: file.replace(/^capture-|\.pcap$/g, ''),
      file,
      frames: frames.length,
      bytes: frames.reduce((n, f) => n + f.len, 0),
      drops: 0,
      timeZeroUs: started.getTime() * 1000,
      ...(frames.length ? { firstUs: frames[0].tsUs, lastUs: frames[frames.length - 1].tsUs } : {}),
      error,
    });
  }
  return { captures };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Run one lab in a fresh sandbox; resolves with its result (outcome "error" if the runner died). */
export async function runLab(req: RunLabRequest): Promise<LabResult> {
  const entry = typeof req.lab === 'string' ? await findLab(req.lab) : req.lab;
  const options = parseOptions(entry.name, entry.def.options, req.options ?? {});
  await preflight();
  const started = new Date();
  const failed = (reason: string): LabResult => ({
    ...leftCaptures(req.captureDir, started, reason),
    schemaVersion: SCHEMA_VERSION,
    lab: entry.name,
    title: entry.title,
    setup: entry.def.setup,
    outcome: 'error',
    reason,
    kernel: kernelName(),
    ranOn: ranOn(),
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
  const child = spawnRunner({ name: entry.name, module: entry.module, options, ...(req.captureDir ? { captureDir: path.resolve(req.captureDir) } : {}) });
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
