// @ts-check
// The esbuild side of the prebuilt harness (build.mjs decides when to build and where a build is kept): one build
// with code splitting, an entry for the CLI, one for the runner and one per lab, so a process loads only the named
// lab while all of them share one copy of each harness module (one LabSkip class, one capture reader). Loaded only
// when a build is to be made.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HARNESS = path.join(ROOT, 'harness');
/** packages that stay outside the bundle: a native addon, esbuild (it finds its binary beside itself), tsx */
const EXTERNAL = ['koffi', 'esbuild', 'tsx'];

/** @typedef {import('./build.mjs').Manifest} Manifest */

/**
 * The names of the labs in a labs folder, as the registry finds them (top-level *.ts, none starting with _).
 * @param {string} labsDir
 */
function labFiles(labsDir) {
  let names;
  try {
    names = readdirSync(labsDir);
  } catch {
    return [];
  }
  return names.filter((f) => f.endsWith('.ts') && !f.startsWith('_')).sort().map((f) => f.slice(0, -3));
}

/**
 * esbuild plugin: inside a bundle `import.meta.url` would be the bundle's own address, so every module gets its
 * source file's URL instead, and what it finds beside itself (capture-worker.mjs, labs/support/, results/, a
 * package's data files) is found where it always was.
 * @returns {import('esbuild').Plugin}
 */
export function sourceUrls() {
  return {
    name: 'tcp-lab-source-urls',
    setup(b) {
      b.onLoad({ filter: /\.(ts|mts|cts|js|mjs|cjs)$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta')) return undefined; // esbuild reads it itself
        const url = JSON.stringify(pathToFileURL(args.path).href);
        const contents = text
          .replace(/\bimport\.meta\.url\b/g, url)
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
        const ext = path.extname(args.path).slice(1);
        return { contents, loader: /** @type {'ts' | 'js'} */ (/ts$/.test(ext) ? 'ts' : 'js'), resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/**
 * esbuild plugin: the packages left outside the bundle are imported by their absolute file URL, as resolved from
 * the importing source, so a build works from wherever it is kept (a cache outside the project has no
 * node_modules above it).
 * @returns {import('esbuild').Plugin}
 */
function externalsByPath() {
  const names = new RegExp(`^(${EXTERNAL.join('|')})(/.*)?$`);
  return {
    name: 'tcp-lab-externals',
    setup(b) {
      b.onResolve({ filter: names }, async (args) => {
        if (args.pluginData === 'resolving') return undefined;
        const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
        if (found.errors.length) return { errors: found.errors };
        return { path: pathToFileURL(found.path).href, external: true };
      });
    },
  };
}

/**
 * esbuild plugin: yargs' `assert` is assert-lite.mjs, its two argument checks without loading node:assert (the
 * file says why). Only yargs': other packages (tar's minizlib) call assert itself and keep Node's.
 * @returns {import('esbuild').Plugin}
 */
function yargsAssert() {
  const yargs = `${path.sep}node_modules${path.sep}yargs${path.sep}`;
  return {
    name: 'tcp-lab-yargs-assert',
    setup(b) {
      b.onResolve({ filter: /^assert$/ }, (args) => (args.importer.includes(yargs) ? { path: path.join(HARNESS, 'build', 'assert-lite.mjs') } : undefined));
    },
  };
}

/** The esbuild options every bundle here shares: ES modules for this Node, written to disk, quiet. */
function common() {
  return /** @type {const} */ ({
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    outExtension: { '.js': '.mjs' },
    // bundled CommonJS packages call require() for node's own modules
    banner: { js: "import { createRequire as __tcpLabRequire } from 'node:module'; const require = __tcpLabRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: ROOT,
    write: true,
  });
}

/**
 * Bundle stand-alone scripts (output name -> source file), each into `outdir`/<name>.mjs with what it imports, as
 * the harness's build does (packages outside by absolute path, each module's own import.meta.url), so plain node
 * runs them: the tests start their sandboxed probes this way instead of through tsx (~0.5 CPU-s less a start).
 * @param {Record<string, string>} entries
 * @param {string} outdir
 */
export async function bundleScripts(entries, outdir) {
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({ ...common(), entryPoints: entries, outdir, plugins: [sourceUrls(), externalsByPath()] });
  } finally {
    await esbuild.stop();
  }
}

/**
 * Bundle the CLI, the runner and every lab of `labsDir` into `outdir`; returns the manifest (not yet written).
 * @param {string} outdir
 * @param {string} labsDir
 * @param {string} key
 * @returns {Promise<Manifest>}
 */
export async function bundle(outdir, labsDir, key) {
  const labs = labFiles(labsDir);
  /** @type {Record<string, string>} */
  const entryPoints = {
    cli: path.join(HARNESS, 'cli', 'main.ts'),
    runner: path.join(HARNESS, 'runs', 'runner.ts'),
  };
  for (const name of labs) entryPoints[`labs/${name}`] = path.join(labsDir, `${name}.ts`);
  const esbuild = await import('esbuild');
  let result;
  try {
    result = await esbuild.build({
      ...common(),
      entryPoints,
      outdir,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      plugins: [sourceUrls(), externalsByPath(), yargsAssert()],
      metafile: true,
    });
  } finally {
    await esbuild.stop(); // its service process must not outlive the build
  }
  const inside = (/** @type {string} */ f, /** @type {string} */ dir) => !path.relative(dir, f).startsWith('..');
  const unhashed = Object.keys(result.metafile.inputs)
    .map((f) => path.resolve(ROOT, f))
    .filter((f) => !f.split(path.sep).includes('node_modules') && !inside(f, HARNESS) && !inside(f, labsDir));
  if (unhashed.length) throw new BuildRefused(`${unhashed[0]} is imported but lies outside harness/ and ${labsDir}, so a build could go stale`);
  return { key, labsDir, cli: 'cli.mjs', runner: 'runner.mjs', labs: Object.fromEntries(labs.map((n) => [n, `labs/${n}.mjs`])) };
}

/** A build the sources cannot have (the same sources are refused again). */
export class BuildRefused extends Error {}

/**
 * One line saying why a build failed: esbuild's first error with its place, or the error's first line.
 * @param {unknown} err
 */
export function firstLine(err) {
  const e = /** @type {{ errors?: { text: string, location?: { file: string, line: number, column: number } }[] }} */ (err);
  const first = e?.errors?.[0];
  if (first?.location) {
    const file = path.resolve(ROOT, first.location.file);
    const shown = path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file);
    return `${shown}:${first.location.line}:${first.location.column}: ${first.text}`;
  }
  if (first) return first.text;
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
