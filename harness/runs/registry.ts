// Find the labs: every labs/<name>.ts exports a lab as default; its name is its file name. Running one lab
// imports only that file; `list` and --help import them all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { labErrors, UserError } from '../errors.ts';
import { builtLab } from '../build/active.ts';
import { sourcesOf, type LabDefinition } from '../lab/define.ts';
import { byText } from '../order.ts';

/** labs/, or TCP_LAB_LABS_DIR (the tests point it at test/fixtures/labs to drive fixture labs through the CLI) */
export const LABS_DIR = process.env.TCP_LAB_LABS_DIR || fileURLToPath(new URL('../../labs/', import.meta.url));

export interface LabEntry {
  name: string;
  title: string;
  sources: string[];
  /** absolute path of the module the runner imports */
  module: string;
  def: LabDefinition;
}

/** The "type" of the package.json nearest to `dir` (Node's rule for whether a .ts/.js file is an ES module). */
function packageType(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      return (JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')) as { type?: string }).type ?? 'commonjs';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** Import a lab module (its bundle when `npm run lab` runs a prebuilt harness) and check it is a lab (made with defineLab). */
export async function loadLabModule(modulePath: string): Promise<LabDefinition> {
  const built = builtLab(modulePath);
  // from source, a lab outside this project is CommonJS to tsx unless a package.json says otherwise, and the
  // harness's ES-only packages then fail deep inside it: say what to do instead
  if (!built && modulePath.endsWith('.ts') && packageType(path.dirname(modulePath)) !== 'module') {
    throw new UserError(`${path.dirname(modulePath)}: labs run from source are ES modules; put a package.json saying {"type": "module"} in that folder (or run without TCP_LAB_DEV=1)`);
  }
  const mod = (await import(pathToFileURL(built ?? modulePath).href).catch((err: NodeJS.ErrnoException) => {
    // a CLI running from a build (no TypeScript loader) asked for a lab that build does not hold: TCP_LAB_BUILD names
    // a build of another labs folder, or one made before the lab existed
    if (err.code === 'ERR_UNKNOWN_FILE_EXTENSION' && !built) {
      throw new UserError(`lab ${labName(modulePath)} is not in the build TCP_LAB_BUILD names (${process.env.TCP_LAB_BUILD ?? 'none'}); run it through npm run lab, which picks the build for its labs, or unset TCP_LAB_BUILD`);
    }
    throw err;
  })) as { default?: LabDefinition };
  const def = mod.default;
  if (!def || typeof def.run !== 'function' || typeof def.judge !== 'function' || typeof def.claims !== 'object') {
    throw new Error(`${modulePath} does not export a lab as default (use defineLab)`);
  }
  return def;
}

/** The lab named by a module's file name. */
export function labName(modulePath: string): string {
  return path.basename(modulePath).replace(/\.(ts|js|mjs)$/, '');
}

/** An entry for a lab module (tests pass fixture labs this way). */
export async function entryOf(modulePath: string): Promise<LabEntry> {
  const def = await loadLabModule(modulePath);
  return { name: labName(modulePath), title: def.title, sources: sourcesOf(def), module: modulePath, def };
}

/** Names of every lab in labs/, sorted, without importing any. */
export function labNames(): string[] {
  return readdirSync(LABS_DIR).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).map((f) => f.replace(/\.ts$/, '')).sort();
}

let cache: Promise<LabEntry[]> | undefined;

/** All labs in labs/, sorted by name (imports every lab file). */
export function listLabs(): Promise<LabEntry[]> {
  cache ??= (async () => {
    const entries: LabEntry[] = [];
    for (const name of labNames()) {
      try {
        entries.push(await entryOf(path.join(LABS_DIR, `${name}.ts`)));
      } catch (err) {
        // one broken lab file must not take every other lab down with it
        process.stderr.write(`lab: warning: labs/${name}.ts is left out: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      }
    }
    return entries;
  })();
  return cache;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The names closest to `name` (substring matches first, then by edit distance). */
export function closestNames(name: string, names: readonly string[], max = 3): string[] {
  if (name.length > 100) return [];
  return [...names]
    .map((n) => ({ n, score: n.includes(name) || name.includes(n) ? 0 : distance(name, n) }))
    .filter((x) => x.score <= Math.max(3, Math.floor(name.length / 2)))
    .sort((a, b) => a.score - b.score || byText(a.n, b.n))
    .slice(0, max)
    .map((x) => x.n);
}

/** Resolve a lab by name, importing only its file, or throw a one-line UserError naming the closest labs. */
export async function findLab(name: string): Promise<LabEntry> {
  const names = labNames();
  const module = path.join(LABS_DIR, `${name}.ts`);
  if (names.includes(name) && existsSync(module)) return entryOf(module);
  throw labErrors.unknown(name, closestNames(name, names));
}
