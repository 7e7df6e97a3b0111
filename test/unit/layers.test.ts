// The harness is layered: kernel access → evidence → actors → lab API → runs → guest → report → results → cli.
// Imports point down only (a module may import its own layer or lower ones), no cycles, no file over 250
// lines, and labs import nothing from the harness but its one door, harness/index.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LAYERS = ['base', 'build', 'kernel', 'evidence', 'actors', 'lab', 'runs', 'guest', 'report', 'results', 'cli', 'index'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}
function layerOf(file: string): string {
  const rel = path.relative(path.join(ROOT, 'harness'), file);
  if (rel === 'index.ts') return 'index';
  return rel.includes('/') ? rel.split('/')[0] : 'base';
}
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n;]*?from\s+['"](\.[^'"]+)['"]/g), ...src.matchAll(/import\(['"](\.[^'"]+)['"]\)/g)].map((m) =>
    path.resolve(path.dirname(file), m[1]),
  );
}

const harness = walk(path.join(ROOT, 'harness'));

describe('harness layers', () => {
  it('every folder of the harness is a known layer', () => {
    for (const f of harness) expect(LAYERS, path.relative(ROOT, f)).toContain(layerOf(f));
  });

  it('imports point down only', () => {
    const bad: string[] = [];
    for (const f of harness) {
      for (const target of importsOf(f)) {
        if (!target.startsWith(path.join(ROOT, 'harness'))) continue;
        if (LAYERS.indexOf(layerOf(target)) > LAYERS.indexOf(layerOf(f))) bad.push(`${path.relative(ROOT, f)} -> ${path.relative(ROOT, target)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycles', () => {
    const graph = new Map(harness.map((f) => [f, importsOf(f).filter((t) => t.startsWith(path.join(ROOT, 'harness')))]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') return void cycles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(ROOT, x)).join(' -> '));
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of harness) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('no harness file is over 250 lines', () => {
    const long = harness.map((f) => [path.relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 250);
    expect(long).toEqual([]);
  });

  it('labs import the harness only through harness/index.ts', () => {
    // labs/support/ holds helper processes that run outside a lab's context (they may use kernel access directly)
    const labs = walk(path.join(ROOT, 'labs')).filter((f) => !f.includes(`${path.sep}support${path.sep}`));
    const bad = labs.flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith(path.join(ROOT, 'harness')) && t !== path.join(ROOT, 'harness/index.ts'))
        .map((t) => `${path.relative(ROOT, f)} -> ${path.relative(ROOT, t)}`),
    );
    expect(bad).toEqual([]);
  });
});
