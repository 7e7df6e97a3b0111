// Read run folders back: list them newest first, load one (marker, labs, results), resolve a run id or a
// unique prefix of one, and (re)write a run's README.md from what is on disk. Reads only; never changes a
// result. A folder without run.json (runs made before the marker existed) still loads, from its lab folders.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quote, UserError } from '../errors.ts';
import type { LabResult } from '../evidence/records.ts';
import { renderRunIndex, type RunIndexInput, type RunIndexLab } from '../report/run-index.ts';
import { closestNames } from '../runs/registry.ts';
import { MARKER, type RunMarker } from './store.ts';
import { byText } from '../order.ts';

/** 20261121-093012-a1b2: UTC start time and four random hex digits (see newRunId in store.ts). */
export const RUN_ID = /^\d{8}-\d{6}-[0-9a-f]{4}$/;
export const INDEX_FILE = 'README.md';

export type RunStatus = 'finished' | 'interrupted' | 'running' | 'abandoned' | 'unknown';

export interface LoadedLab extends RunIndexLab {
  dir: string;
  result?: LabResult;
}

export interface LoadedRun extends RunIndexInput {
  id: string;
  dir: string;
  status: RunStatus;
  marker?: RunMarker;
  /** why run.json could not be read, when it exists but is broken */
  markerProblem?: string;
  labs: LoadedLab[];
  /** ISO start time: the marker's, else the earliest lab's */
  startedAt?: string;
  /** uname -srm: the machine facts', else the first lab result's */
  kernel?: string;
}

async function readJson<T>(file: string): Promise<{ value?: T; problem?: string; missing?: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { missing: code === 'ENOENT', problem: code === 'ENOENT' ? `no ${path.basename(file)}` : `${path.basename(file)} unreadable (${code})` };
  }
  try {
    return { value: JSON.parse(text) as T };
  } catch {
    return { problem: `${path.basename(file)} is not valid JSON` };
  }
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Is a process with this pid still there? (EPERM: it exists but is someone else's.) */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function loadLab(runDir: string, name: string): Promise<LoadedLab> {
  const dir = path.join(runDir, name);
  const files = (await entries(dir)).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
  if (!files.length) return { name, dir, files, problem: 'no result written' };
  const { value, problem } = await readJson<LabResult>(path.join(dir, 'result.json'));
  const ok = value && typeof value === 'object' && Array.isArray(value.claims);
  return ok ? { name, dir, files, result: value } : { name, dir, files, problem: problem ?? 'result.json is not a lab result' };
}

/**
 * Load a run folder. `live`: a "running" marker whose pid is gone on this machine is "abandoned" (turn it off for
 * runs that came from elsewhere, e.g. out of a bundle).
 */
export async function loadRun(dir: string, opts: { live?: boolean } = {}): Promise<LoadedRun> {
  const m = await readJson<RunMarker>(path.join(dir, MARKER));
  const marker = m.value && typeof m.value === 'object' && typeof m.value.status === 'string' ? m.value : undefined;
  const markerProblem = marker || m.missing ? undefined : (m.problem ?? `${MARKER} is not a run marker`);
  const names = new Set<string>(Array.isArray(marker?.labs) ? marker.labs.filter((l) => typeof l === 'string' && l && !l.includes('/')) : []);
  for (const e of await entries(dir)) {
    if (e.isDirectory() && (await entries(path.join(dir, e.name))).some((f) => f.name === 'result.json')) names.add(e.name);
  }
  const labs = await Promise.all([...names].sort().map((n) => loadLab(dir, n)));
  let status: RunStatus = marker && ['finished', 'interrupted', 'running'].includes(marker.status) ? marker.status : 'unknown';
  if (status === 'running' && opts.live !== false && !alive(marker!.pid)) status = 'abandoned';
  const labStarts = labs.map((l) => l.result?.startedAt).filter((s): s is string => typeof s === 'string').sort();
  const run: LoadedRun = { id: path.basename(path.resolve(dir)), dir: path.resolve(dir), status, labs };
  if (marker) run.marker = marker;
  if (markerProblem) run.markerProblem = markerProblem;
  const startedAt = marker?.startedAt ?? labStarts[0];
  if (startedAt) run.startedAt = startedAt;
  const kernel = marker?.machine?.kernel ?? labs.find((l) => l.result?.kernel)?.result?.kernel;
  if (kernel) run.kernel = kernel;
  return run;
}

/** A folder is a run if it has a marker or a lab folder with a result.json in it. */
async function isRunFolder(dir: string): Promise<boolean> {
  for (const e of await entries(dir)) {
    if (e.isFile() && e.name === MARKER) return true;
    if (e.isDirectory() && (await entries(path.join(dir, e.name))).some((f) => f.name === 'result.json')) return true;
  }
  return false;
}

/** "2026-11-21T09:30:12.345Z" → "20261121-093012", comparable with run ids. */
function timeKey(id: string, startedAt?: string): string {
  if (RUN_ID.test(id)) return id;
  return startedAt ? startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15) : '';
}

/** Names of the run folders under root, newest first (ids sort by time; others by their start time). */
export async function runIds(root: string): Promise<string[]> {
  let list: Dirent[];
  try {
    list = await readdir(root, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new UserError(`cannot read the results folder ${quote(root)} (${code ?? String(err)}): pass --results-dir <a folder of runs>`);
  }
  const dirs = list.filter((e) => e.isDirectory()).map((e) => e.name);
  const runs = [];
  for (const name of dirs) {
    if (RUN_ID.test(name)) runs.push({ name, key: name });
    else if (await isRunFolder(path.join(root, name))) {
      const m = await readJson<RunMarker>(path.join(root, name, MARKER));
      runs.push({ name, key: timeKey(name, typeof m.value?.startedAt === 'string' ? m.value.startedAt : undefined) });
    }
  }
  return runs.sort((a, b) => byText(b.key, a.key) || byText(b.name, a.name)).map((r) => r.name);
}

/** Every run under root, loaded, newest first. */
export async function listRuns(root: string): Promise<LoadedRun[]> {
  const ids = await runIds(root);
  return Promise.all(ids.map((id) => loadRun(path.join(root, id))));
}

/** The folder of a run: by id, by a unique prefix of one, or the latest when ref is absent. */
export async function resolveRun(root: string, ref?: string): Promise<string> {
  const ids = await runIds(root);
  if (ref === undefined) {
    if (!ids.length) throw new UserError(`no runs under ${quote(root)} yet: run a lab first ('npm run lab <lab>', see 'npm run lab list')`);
    return path.join(root, ids[0]);
  }
  if (ids.includes(ref)) return path.join(root, ref);
  const matches = ref ? ids.filter((id) => id.startsWith(ref)) : [];
  if (matches.length === 1) return path.join(root, matches[0]);
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).join(', ') + (matches.length > 5 ? `, and ${matches.length - 5} more` : '');
    throw new UserError(`run id ${quote(ref)} is ambiguous: it starts ${matches.length} runs (${shown}); give more of it`);
  }
  const near = closestNames(ref, ids);
  const hint = near.length ? `; did you mean ${near.join(', ')}?` : ids.length ? `; the latest runs are ${ids.slice(0, 3).join(', ')}` : '; there are no runs there yet';
  throw new UserError(`unknown run ${quote(ref)} under ${quote(root)}${hint} (see 'npm run lab results')`);
}

/** Is this path a run folder (for compare, which takes folders as well as ids)? */
export async function isRunDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory() && (await isRunFolder(p));
  } catch {
    return false;
  }
}

/** (Re)write <runDir>/README.md from what is on disk now; returns its path. */
export async function writeRunIndex(runDir: string): Promise<string> {
  const file = path.join(runDir, INDEX_FILE);
  await writeFile(file, renderRunIndex(await loadRun(runDir)));
  return file;
}
