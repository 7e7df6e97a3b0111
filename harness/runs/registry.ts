// Find the labs: every labs/*.ts file exports a lab definition as default; its name is its file name.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { sourcesOf, type LabDefinition } from '../lab/define.ts';

export const LABS_DIR = fileURLToPath(new URL('../../labs/', import.meta.url));

export interface LabEntry {
  name: string;
  title: string;
  sources: string[];
  /** absolute path of the module the runner imports */
  module: string;
  def: LabDefinition;
}

/** Import a lab module and check it is a lab definition. */
export async function loadLabModule(modulePath: string): Promise<LabDefinition> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { default?: LabDefinition };
  const def = mod.default;
  if (!def || typeof def.run !== 'function' || typeof def.name !== 'string') {
    throw new Error(`${modulePath} does not export a lab definition as default (use defineLab)`);
  }
  return def;
}

let cache: Promise<LabEntry[]> | undefined;

/** All labs in labs/, sorted by name. */
export function listLabs(): Promise<LabEntry[]> {
  cache ??= (async () => {
    const files = readdirSync(LABS_DIR).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).sort();
    const entries: LabEntry[] = [];
    for (const f of files) {
      const module = path.join(LABS_DIR, f);
      try {
        const def = await loadLabModule(module);
        if (def.name !== f.replace(/\.ts$/, '')) throw new Error(`it is named '${def.name}'; a lab's name must be its file name`);
        entries.push({ name: def.name, title: def.title, sources: sourcesOf(def), module, def });
      } catch (err) {
        // one broken lab file must not take every other lab down with it
        process.stderr.write(`lab: warning: labs/${f} is left out: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
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
  return [...names]
    .map((n) => ({ n, score: n.includes(name) || name.includes(n) ? 0 : distance(name, n) }))
    .filter((x) => x.score <= Math.max(3, Math.floor(name.length / 2)))
    .sort((a, b) => a.score - b.score || a.n.localeCompare(b.n))
    .slice(0, max)
    .map((x) => x.n);
}

/** Resolve a lab by name or throw a one-line UserError naming the closest labs. */
export async function findLab(name: string): Promise<LabEntry> {
  const labs = await listLabs();
  const hit = labs.find((l) => l.name === name);
  if (hit) return hit;
  const near = closestNames(name, labs.map((l) => l.name));
  throw new UserError(
    `unknown lab '${name}'${near.length ? `; did you mean ${near.join(', ')}?` : ''} (run 'npm run lab list' to see all labs)`,
  );
}
