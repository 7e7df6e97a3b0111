// Shared by the integration tests: run a lab for real and read its evidence back out of the result.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { filterSockets, type SockFilter } from '../harness/evidence/census.ts';
import type { EventRecord, LabResult, SnapshotRecord } from '../harness/evidence/records.ts';
import { runLab } from '../harness/runs/run.ts';
import { assertContract } from './schema.ts';

/** Run a lab in its own sandbox, as the CLI would, and return its result; fails the test on outcome "error". */
export async function runForTest(lab: string, options: Record<string, unknown> = {}, o: { capture?: boolean } = {}): Promise<LabResult> {
  const output: string[] = [];
  let pid: number | undefined;
  // the pcaps are read inside the lab (its evidence and result hold what they showed): the folder goes with the run
  const captureDir = o.capture ? mkdtempSync(path.join(tmpdir(), 'tcplab-test-capture-')) : undefined;
  let result: LabResult;
  try {
    result = await runLab({ lab, options, ...(captureDir ? { captureDir } : {}), onOutput: (l) => output.push(l), onSpawn: (p) => (pid = p) });
  } finally {
    if (captureDir) rmSync(captureDir, { recursive: true, force: true });
  }
  if (result.outcome === 'error') throw new Error(`lab ${lab} ended in error: ${result.reason}\n${output.join('\n')}`);
  if (pid !== undefined) await expectGone(pid);
  assertContract(result);
  return result;
}

/** The snapshot with this label (throws if the lab did not record it). */
export function snapshotNamed(r: LabResult, label: string): SnapshotRecord {
  const s = r.snapshots.find((x) => x.label === label);
  if (!s) throw new Error(`no snapshot '${label}' in ${r.lab}; have: ${r.snapshots.map((x) => x.label).join(', ')}`);
  return s;
}

/** How many sockets of a snapshot match the filter. */
export function countIn(s: SnapshotRecord, f: SockFilter): number {
  return filterSockets(s.sockets, f).length;
}

/** Events of one kind, optionally whose data matches every given field. */
export function eventsOf(r: LabResult, kind: string, match: Record<string, unknown> = {}): EventRecord[] {
  return r.events.filter((e) => e.kind === kind && Object.entries(match).every(([k, v]) => e.data?.[k] === v));
}

export function verdictOf(r: LabResult, claimId: string): string {
  const c = r.claims.find((x) => x.id === claimId);
  if (!c) throw new Error(`no claim ${claimId} in ${r.lab}`);
  return c.verdict;
}

/** Has the process exited? (A zombie has: it holds no sockets or namespaces, only its exit status.) */
export function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Wait (up to 3 s) for a process to exit; throws if it is still running. */
export async function expectGone(pid: number, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (exited(pid)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} still exists ${timeoutMs} ms after the lab ended`);
}

/** The network namespace a process is in ("net:[4026532…]"), or undefined if it is gone. */
export function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** tsx's esbuild transform service: the tsx loader starts it in the runner when its cache (/tmp/tsx-<euid>) misses. */
function isTsxService(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /\/esbuild$/.test(argv[0]) && argv.some((a) => a.startsWith('--service='));
  } catch {
    return false;
  }
}

/** Every process still in the given network namespace (empty once the namespace is gone). */
export function processesInNetns(ns: string, opts: { ignoreTsxService?: boolean } = {}): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => netnsOf(p) === ns)
    .filter((p) => !exited(p))
    .filter((p) => !(opts.ignoreTsxService && isTsxService(p)));
}

/** The evidence a lab's run() returned, typed as that lab's judge takes it. */
export function evidenceOf<L extends { judge: (ev: never, o: never) => unknown }>(r: LabResult, _lab: L): Parameters<L['judge']>[0] {
  if (r.evidence === undefined) throw new Error(`${r.lab} stored no evidence (outcome ${r.outcome}: ${r.reason ?? ''})`);
  return r.evidence as Parameters<L['judge']>[0];
}

/** Is this program installed (does `<program> --version` run)? For tests that compare with a tool (tcpdump). */
export function hasProgram(program: string): boolean {
  try {
    execFileSync(program, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * node's arguments to run a probe script (a test's process of its own): its bundle from test/setup-builds.ts with
 * plain node, or the source through tsx when it was not bundled.
 */
export function probeArgs(source: string): string[] {
  const bundled = inject('tcpLabProbes')[source];
  return bundled ? [bundled] : ['--import', 'tsx', source];
}
