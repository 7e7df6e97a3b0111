// @ts-check
// What a build of the harness depends on, and the hash that names it (see build.mjs): the harness and labs sources,
// the labs folder's path, package.json, the lockfiles (npm's own in node_modules says what is installed),
// tsconfig.json, the project's place and the node version.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HARNESS = path.join(ROOT, 'harness');
/** files outside harness/ and the labs folder that change what a build holds */
const PROJECT_FILES = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'tsconfig.json'];
const CODE = /\.(ts|mts|cts|js|mjs|cjs|json)$/;

/**
 * Code files under `dir` (no node_modules, no dot folders), absolute.
 * @param {string} dir
 * @returns {string[]}
 */
function walk(dir, out = /** @type {string[]} */ ([])) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (CODE.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Every file whose content goes into the build of the labs in `labsDir` (absolute, sorted).
 * @param {string} labsDir
 */
export function inputFiles(labsDir) {
  return [...new Set([...walk(HARNESS), ...walk(labsDir), ...PROJECT_FILES.map((f) => path.join(ROOT, f))])].sort();
}

/**
 * The hash that names the build of the harness with the labs in `labsDir`: of the files' contents.
 * @param {string} [labsDir]
 * @param {string[]} [files]
 */
export function buildKey(labsDir = path.join(ROOT, 'labs'), files = inputFiles(path.resolve(labsDir))) {
  const h = createHash('sha256').update(JSON.stringify({ node: process.version, root: ROOT, labsDir: path.resolve(labsDir) }));
  for (const f of files) {
    let text;
    try {
      text = readFileSync(f);
    } catch {
      text = Buffer.from('(missing)');
    }
    h.update(`\0${f}\0${text.length}\0`).update(text);
  }
  return h.digest('hex').slice(0, 24);
}

/**
 * A cheap stand-in for buildKey: a hash of the files' metadata (size, mtime, ctime, inode), ~1 ms instead of reading
 * every file. The cache maps it to the content key, but only once every file is older than `settleMs` (as git
 * treats racily clean files): a write changes ctime, which nobody can set back, and once a file's ctime is that old
 * any later write gives it a different one, so a remembered stamp can never hide an edit.
 * @param {string} labsDir
 * @param {string[]} files
 * @param {number} settleMs
 */
export function metaStamp(labsDir, files, settleMs) {
  const h = createHash('sha256').update(JSON.stringify({ node: process.version, root: ROOT, labsDir }));
  let newest = 0;
  for (const f of files) {
    try {
      const st = statSync(f); // times in ms with a fraction finer than a microsecond (bigint stats cost 3x as much)
      h.update(`\0${f}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}`);
      newest = Math.max(newest, st.ctimeMs, st.mtimeMs);
    } catch {
      h.update(`\0${f}\0(missing)`);
    }
  }
  return { stamp: h.digest('hex').slice(0, 24), settled: newest < Date.now() - settleMs };
}
