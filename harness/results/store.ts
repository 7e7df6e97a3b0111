// Write runs to disk: results/<run-id>/<lab>/{result.json, writeup.md, snapshots/*.txt}. Never overwrites.
import { writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabResult } from '../evidence/records.ts';
import { formatRecord } from '../evidence/ss.ts';
import { isCompact, snapshotTotal, storedSnapshot } from '../evidence/compact.ts';
import { renderWriteup } from '../report/writeup.ts';
import { snapshotFile } from '../report/story.ts';
import { writeDiagrams } from './diagrams.ts';
import type { MachineFacts } from './machine.ts';

export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

/** A new, unique run id: UTC time to the second plus 4 random hex digits, e.g. 20261121-093012-a1b2. */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(2).toString('hex')}`;
}

/**
 * mkdir -p, one level at a time. (Node 20's `mkdir(..., { recursive: true })` never settles for some paths,
 * e.g. under /proc, so a bad --results-dir would hang the CLI.)
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    await ensureDir(parent);
    await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
}

/** Create a fresh run folder under root; an existing folder is never reused. */
export async function createRunDir(root = DEFAULT_RESULTS_DIR): Promise<string> {
  await ensureDir(root);
  for (let i = 0; i < 10; i++) {
    const dir = path.join(root, newRunId());
    try {
      await mkdir(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`could not create a new run folder under ${root}`);
}

/** The folder of one lab in a run (made before the lab runs: its capture is written there while it runs). */
export async function createLabDir(runDir: string, lab: string): Promise<string> {
  const dir = path.join(runDir, lab);
  await mkdir(dir); // fails if it exists: a run never overwrites a lab's earlier result
  return dir;
}

/**
 * The result as result.json stores it: snapshots over COMPACT_OVER sockets compact (counts, the sockets that
 * matter, and the name of their file under snapshots/, which has every line).
 */
export function storedResult(result: LabResult): LabResult {
  return { ...result, snapshots: result.snapshots.map((s, i) => storedSnapshot(s, `snapshots/${snapshotFile(i + 1, s)}`)) };
}

/**
 * Write one lab's result into the run folder (made by createLabDir, or here): result.json, its diagrams, the
 * writeup and the snapshots. Returns the lab folder. `warn` hears about diagrams that could not be drawn.
 * The diagrams and the writeup are drawn from what result.json holds, as later renderings are.
 */
export async function writeLabResult(runDir: string, result: LabResult, warn?: (text: string) => void, folder = result.lab): Promise<string> {
  const dir = path.join(runDir, folder);
  await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const stored = storedResult(result);
  // 'wx': a run never overwrites a lab's earlier result
  await writeFile(path.join(dir, 'result.json'), JSON.stringify(stored, null, 2) + '\n', { flag: 'wx' });
  if (result.snapshots.length) {
    const snaps = path.join(dir, 'snapshots');
    await mkdir(snaps);
    let i = 0;
    for (const s of result.snapshots) {
      const name = snapshotFile(++i, s);
      // a result read back from result.json has only the kept sockets of a compact snapshot: the file says so
      const kept = isCompact(s) ? `; only the ${s.sockets.length} kept in result.json` : '';
      const body = `# ${s.label} (host ${s.host}, +${s.atMs} ms, ${snapshotTotal(s)} sockets${kept})\n${s.sockets.map(formatRecord).join('\n')}\n`;
      await writeFile(path.join(snaps, name), body);
    }
  }
  const diagrams = await writeDiagrams(dir, stored, warn);
  await writeFile(path.join(dir, 'writeup.md'), renderWriteup(stored, diagrams));
  return dir;
}

/** What happened to a run, written first ("running") and completed last: every run folder says how it ended. */
export interface RunMarker {
  status: 'running' | 'finished' | 'interrupted';
  /** the CLI's pid: a "running" marker whose process is gone was abandoned (the CLI was killed with SIGKILL) */
  pid: number;
  labs: string[];
  args: string[];
  startedAt: string;
  endedAt?: string;
  /** the signal that stopped the run */
  signal?: string;
  /** the outcome of each lab whose result was written */
  outcomes?: Record<string, string>;
  note?: string;
  /** the machine the run ran on (harness/results/machine.ts); absent in runs made before it was recorded */
  machine?: MachineFacts;
  /** a run made with --kernel: each kernel the labs ran on, and the lab folders (<lab>@<release>) it wrote */
  kernels?: KernelRunRecord[];
}

export interface KernelRunRecord {
  /** as given to --kernel: host, 6.1, or a release */
  spec: string;
  release: string;
  ranOn: 'host' | 'kvm' | 'emulated';
  folders: string[];
  /** the exit code of the lab run on that kernel; null when it never finished (a guest that hung or was stopped) */
  exitCode: number | null;
  /** a guest's virtual CPUs */
  cpus?: number;
  /** a guest's boot time, kernel start to its first line */
  bootMs?: number;
  note?: string;
}

export const MARKER = 'run.json';

/** Write the run's marker (synchronously, so it also works on the way out of a quitting process). */
export function writeMarker(runDir: string, marker: RunMarker): void {
  writeFileSync(path.join(runDir, MARKER), JSON.stringify(marker, null, 2) + '\n');
}
