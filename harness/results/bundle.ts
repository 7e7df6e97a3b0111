// A run folder packed as one file to hand on (<run-id>.tar.gz: everything in the folder, whatever the labs
// wrote), unpacked again, and the one way commands name a run: an id or a prefix of one, a folder, or a bundle.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { create, extract } from 'tar';
import { quote, UserError } from '../errors.ts';
import { isRunDir, loadRun, resolveRun, type LoadedRun } from './runs.ts';

/** How a bundle's name ends. */
export const BUNDLE_EXT = /\.(tar\.gz|tgz)$/;

function why(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
}

/** Where a bundle of runDir goes: `out` (a file, or an existing folder to put <run-id>.tar.gz in), else beside the run. */
export async function bundlePath(runDir: string, out?: string): Promise<string> {
  const name = `${path.basename(runDir)}.tar.gz`;
  if (out === undefined) return path.join(path.dirname(runDir), name);
  if (out.trim() === '') throw new UserError("option --out: '' is not valid; expected a file, or a folder to put the bundle in");
  const target = path.resolve(out);
  const st = await stat(target).catch(() => undefined);
  return st?.isDirectory() ? path.join(target, name) : target;
}

/**
 * Pack runDir into `file` (gzip'd tar; its one top-level folder is the run id). Never overwrites: an existing file
 * is a UserError. Written under a temporary name and renamed, so a half-written bundle is never left behind.
 */
export async function bundleRun(runDir: string, file: string): Promise<{ file: string; bytes: number }> {
  const run = path.resolve(runDir);
  const out = path.resolve(file);
  if (out === run || out.startsWith(run + path.sep)) throw new UserError(`--out ${quote(file)} is inside the run folder it would pack; choose a file outside it`);
  if (existsSync(out)) throw new UserError(`${quote(out)} already exists: remove it or pass --out <another file>`);
  if (!(await stat(path.dirname(out)).catch(() => undefined))?.isDirectory()) throw new UserError(`cannot write ${quote(out)}: its folder does not exist`);
  const partial = `${out}.partial-${randomBytes(3).toString('hex')}`;
  try {
    await create({ gzip: true, file: partial, cwd: path.dirname(run), portable: true }, [path.basename(run)]);
    await rename(partial, out);
  } catch (err) {
    await rm(partial, { force: true });
    throw new UserError(`cannot write ${quote(out)} (${why(err)}): pass --out <a file in a folder you can write>`);
  }
  return { file: out, bytes: (await stat(out)).size };
}

/**
 * Unpack a bundle into `into` (only files and folders; tar itself refuses absolute paths and `..`) and return the
 * run folder in it: the bundle's one top-level folder, or `into` when the bundle holds a run's contents directly.
 */
export async function unpackBundle(file: string, into: string, only?: (name: string) => boolean): Promise<string> {
  try {
    const kind = (e: unknown) => (e && typeof e === 'object' && 'type' in e ? (e as { type: string }).type : undefined);
    await extract({ file, cwd: into, strict: true, filter: (p, e) => (kind(e) ? kind(e) === 'Directory' || (kind(e) === 'File' && (!only || only(path.basename(p)))) : true) });
  } catch (err) {
    throw new UserError(`cannot read the bundle ${quote(file)} (${why(err)}): is it a .tar.gz made by 'npm run lab bundle'?`);
  }
  const top = (await readdir(into, { withFileTypes: true })).filter((e) => e.isDirectory());
  if (top.length === 1 && (await isRunDir(path.join(into, top[0].name)))) return path.join(into, top[0].name);
  if (await isRunDir(into)) return into;
  throw new UserError(`the bundle ${quote(file)} holds no run folder (no run.json and no <lab>/result.json)`);
}

/** A run opened for reading; close() removes whatever was unpacked for it. */
export interface OpenedRun {
  run: LoadedRun;
  /** how the user named it: the run id, with the bundle or folder it came from */
  label: string;
  close(): Promise<void>;
}

const looksLikePath = (ref: string) => ref.includes('/') || ref.startsWith('.') || ref.startsWith('~');

/** Open a run named as a run id (or unique prefix) under root, a run folder, or a bundle file. */
export async function openRun(ref: string, root: string): Promise<OpenedRun> {
  const none = async () => {};
  if (BUNDLE_EXT.test(ref)) {
    const st = await stat(ref).catch(() => undefined);
    if (!st?.isFile()) throw new UserError(`no bundle file ${quote(ref)}`);
    const tmp = await mkdtemp(path.join(tmpdir(), 'tcplab-bundle-'));
    const close = () => rm(tmp, { recursive: true, force: true });
    try {
      // reading a run needs its marker and results only: the pcaps and diagrams stay packed
      const dir = await unpackBundle(ref, tmp, (name) => name === 'run.json' || name === 'result.json');
      const run = await loadRun(dir, { live: false });
      if (dir === tmp) run.id = path.basename(ref).replace(BUNDLE_EXT, '');
      return { run, label: `${run.id} (bundle ${path.basename(ref)})`, close };
    } catch (err) {
      await close();
      throw err;
    }
  }
  if (looksLikePath(ref)) {
    if (!(await isRunDir(ref))) throw new UserError(`${quote(ref)} is not a run folder (no run.json and no <lab>/result.json in it)`);
    const run = await loadRun(ref);
    return { run, label: `${run.id} (folder ${ref})`, close: none };
  }
  try {
    const run = await loadRun(await resolveRun(root, ref));
    return { run, label: run.id, close: none };
  } catch (err) {
    if (err instanceof UserError && (await isRunDir(ref))) {
      const run = await loadRun(ref);
      return { run, label: `${run.id} (folder ${ref})`, close: none };
    }
    throw err;
  }
}
