// @ts-check
// The prebuilt harness: `npm run lab` runs the CLI, the sandboxed runner and the named lab as JavaScript bundled by
// esbuild (bundle.mjs), instead of having tsx transpile ~100 TypeScript modules in both processes at every start
// (~1 s of a 3 ms lab). A build is made on first use and kept under node_modules/.cache/tcp-lab/builds/ in a folder
// named by a hash of everything that goes into it (key.mjs), so any edit gives a new one and a build is never stale
// (labs that import a source outside harness/ and their own folder are refused: the hash would miss that file).
// It is made in a private temporary folder and renamed into place, so concurrent runs never see half a build (the
// loser of a race removes its copy and uses the winner's). This file decides between finding and making one.
// Plain JavaScript because it runs before any TypeScript loader; its types are in build.d.mts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKey, inputFiles, metaStamp } from './key.mjs';

export { buildKey };

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** where builds are kept; TCP_LAB_BUILD_CACHE moves it (the tests use a folder of their own) */
export const DEFAULT_CACHE = process.env.TCP_LAB_BUILD_CACHE || path.join(ROOT, 'node_modules', '.cache', 'tcp-lab', 'builds');
export const DEFAULT_LABS_DIR = path.join(ROOT, 'labs');
/** builds not started from for this long are removed when a new one is made */
const KEEP_UNUSED_MS = 24 * 3600_000;
/** a stamp is remembered only when every file is at least this old (file times have a coarse clock) */
const STAMP_SETTLE_MS = 2000;

/**
 * @typedef {{ key: string, labsDir: string, cli: string, runner: string, labs: Record<string, string> }} Manifest
 * @typedef {{ dir: string, manifest: Manifest, built: boolean, ms: number }} Build
 */

/**
 * The manifest of a finished build in `dir`, or undefined (no build there, or half of one).
 * @param {string} dir
 * @returns {Manifest | undefined}
 */
export function readManifest(dir) {
  try {
    return /** @type {Manifest} */ (JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Remove what nobody has used for a day: builds (their manifest's mtime is touched at every use), remembered stamps
 * and failures, and the temporary folders of builds that died.
 * @param {string} cacheDir
 * @param {string} keep
 */
function prune(cacheDir, keep) {
  const now = Date.now();
  const old = (/** @type {string} */ p) => now - statSync(p).mtimeMs > KEEP_UNUSED_MS;
  for (const name of readdirSync(cacheDir)) {
    const p = path.join(cacheDir, name);
    try {
      if (name === 'stamps') {
        for (const s of readdirSync(p)) if (old(path.join(p, s))) rmSync(path.join(p, s), { force: true });
      } else if (name !== keep && old(existsSync(path.join(p, 'manifest.json')) ? path.join(p, 'manifest.json') : p)) {
        rmSync(p, { recursive: true, force: true });
      }
    } catch {
      // another process pruned it first
    }
  }
}

/** @param {string} file */
function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Write a small file so that readers see all of it or none (best effort: the cache may be read-only).
 * @param {string} file
 * @param {string} text
 */
function writeAtomic(file, text) {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch {
    // only a shortcut is lost
  }
}

/**
 * A failed build, remembered so the next runs with the same sources do not retry it (each try costs time).
 * @param {string} cacheDir
 * @param {string} key
 */
function failedPath(cacheDir, key) {
  return path.join(cacheDir, `${key}.failed`);
}

/**
 * The build for the current sources: found in the cache, or made now. Throws when esbuild cannot build them
 * (a syntax error, a missing module); the failure is remembered for these sources, so a caller can fall back to
 * tsx at once next time, whose own error then says what is wrong.
 * @param {{ labsDir?: string, cacheDir?: string, settleMs?: number }} [o] settleMs: how old every file must be before
 *   its metadata stamp is remembered (tests lower it)
 * @returns {Promise<Build>}
 */
export function ensureBuild(o = {}) {
  const labsDir = path.resolve(o.labsDir ?? DEFAULT_LABS_DIR);
  const cacheDir = path.resolve(o.cacheDir ?? DEFAULT_CACHE);
  // one at a time within a process: esbuild's service is shared, and one build's stop() would end another's
  const next = queue.catch(() => {}).then(() => findOrBuild(labsDir, cacheDir, o.settleMs ?? STAMP_SETTLE_MS));
  queue = next;
  return next;
}

/** @type {Promise<unknown>} */
let queue = Promise.resolve();

/**
 * @param {string} labsDir
 * @param {string} cacheDir
 * @param {number} settleMs
 * @returns {Promise<Build>}
 */
async function findOrBuild(labsDir, cacheDir, settleMs) {
  const t0 = performance.now();
  const files = inputFiles(labsDir);
  const { stamp, settled } = metaStamp(labsDir, files, settleMs);
  const stampFile = path.join(cacheDir, 'stamps', stamp);
  const remembered = readText(stampFile);
  let key = remembered && /^[0-9a-f]{24}$/.test(remembered) ? remembered : undefined;
  let found = key ? readManifest(path.join(cacheDir, key)) : undefined;
  if (!key || !found) {
    key = buildKey(labsDir, files);
    found = readManifest(path.join(cacheDir, key));
  }
  const dir = path.join(cacheDir, key);
  if (found && settled && !readText(stampFile)) writeAtomic(stampFile, key);
  if (found) {
    const now = new Date();
    try {
      utimesSync(path.join(dir, 'manifest.json'), now, now); // in use: keep it
    } catch {
      // read-only cache: still usable
    }
    return { dir, manifest: found, built: false, ms: performance.now() - t0 };
  }
  if (existsSync(failedPath(cacheDir, key))) throw new Error(readFileSync(failedPath(cacheDir, key), 'utf8'));
  mkdirSync(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const { bundle, BuildRefused, firstLine } = await import('./bundle.mjs');
    let manifest;
    try {
      manifest = await bundle(tmp, labsDir, key);
    } catch (err) {
      const msg = firstLine(err);
      // esbuild's own errors (syntax, a module not found) and refusals are the sources' fault: they fail again
      if (err instanceof BuildRefused || /** @type {{ errors?: unknown[] }} */ (err)?.errors?.length) writeFileSync(failedPath(cacheDir, key), msg);
      throw new Error(msg);
    }
    writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n'); // last: marks it whole
    try {
      renameSync(tmp, dir);
    } catch (err) {
      const code = /** @type {NodeJS.ErrnoException} */ (err).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (!readManifest(dir)) {
        // a folder without a manifest is no build (left by hand): replace it
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
      } // else another run finished the same build first: use theirs
    }
    if (settled) writeAtomic(stampFile, key);
    prune(cacheDir, key);
    return { dir, manifest: readManifest(dir) ?? manifest, built: true, ms: performance.now() - t0 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// `node harness/build/build.mjs` (npm's postinstall): make the build of labs/ now rather than at the first run
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const b = await ensureBuild({ labsDir: process.env.TCP_LAB_LABS_DIR || undefined });
    process.stdout.write(`tcp-lab: harness build ${b.built ? 'made' : 'up to date'}: ${path.relative(process.cwd(), b.dir) || '.'}\n`);
  } catch (err) {
    // never fatal: npm run lab falls back to tsx and says why
    process.stderr.write(`tcp-lab: no harness build (${err instanceof Error ? err.message : String(err)}); npm run lab will run from source\n`);
  }
}

/**
 * The esbuild plugin that gives every bundled module its source file's import.meta.url (bundle.mjs), for a
 * script bundled on its own (the bench's CLI test).
 * @returns {Promise<import('esbuild').Plugin>}
 */
export async function sourceUrlsPlugin() {
  return (await import('./bundle.mjs')).sourceUrls();
}
