// Two runs side by side: per lab and claim the verdicts, the measured figures (claims[].checks[].saw) that
// differ, the lab options and sysctls that differ, and the machines (kernel, tools, kernel defaults).
import type { Check, LabResult, Verdict } from '../evidence/records.ts';
import { textTable } from '../report/format.ts';
import type { MachineFacts } from './machine.ts';
import type { LoadedRun } from './runs.ts';
import { byText } from '../order.ts';

/** One named value on each side (absent: that side does not have it). */
export interface ValueDiff {
  name: string;
  a?: string;
  b?: string;
}

export interface ClaimRow {
  claim: string;
  a?: Verdict;
  b?: Verdict;
  differs: boolean;
}

export interface FigureDiff {
  claim: string;
  what: string;
  /** the figure with its unit, "not observed", or absent when that side has no such check */
  a?: string;
  b?: string;
}

export interface LabComparison {
  lab: string;
  /** the lab's outcome on each side ("no result" when its folder has none); absent: not in that run */
  a?: string;
  b?: string;
  options: ValueDiff[];
  sysctls: ValueDiff[];
  claims: ClaimRow[];
  figures: FigureDiff[];
  differences: number;
}

export interface Comparison {
  a: { label: string; id: string; kernel?: string; status: string };
  b: { label: string; id: string; kernel?: string; status: string };
  /** both kernels known and not the same */
  kernelDiffers: boolean;
  /** machine facts other than the kernel that differ (only when both runs recorded them) */
  machine: ValueDiff[];
  /** the kernel defaults a fresh network namespace gets, where they differ (both runs recorded them) */
  sysctls: ValueDiff[];
  labs: LabComparison[];
  differences: number;
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort((x, y) => byText(x, y));

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map(show).join(',');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Entries of two records whose values differ (a key on one side only differs too). */
export function diffRecords(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): ValueDiff[] {
  return sorted([...Object.keys(a), ...Object.keys(b)]).flatMap((name) => {
    const va = name in a ? show(a[name]) : undefined;
    const vb = name in b ? show(b[name]) : undefined;
    return va === vb ? [] : [{ name, ...(va === undefined ? {} : { a: va }), ...(vb === undefined ? {} : { b: vb }) }];
  });
}

function figure(k: Check): string {
  return k.saw === undefined ? 'not observed' : `${show(k.saw)}${k.unit ? ` ${k.unit}` : ''}`;
}

/** A claim's checks by what they measured ("what", then "what #2" for a repeat). */
function checksByWhat(checks: readonly Check[] = []): Map<string, Check> {
  const out = new Map<string, Check>();
  for (const k of checks) {
    let key = k.what;
    for (let n = 2; out.has(key); n++) key = `${k.what} #${n}`;
    out.set(key, k);
  }
  return out;
}

function compareLab(lab: string, ra?: LabResult, rb?: LabResult, outcomeA?: string, outcomeB?: string): LabComparison {
  const options = ra && rb ? diffRecords(ra.options, rb.options) : [];
  const sysctls = ra && rb ? diffRecords(ra.sysctls, rb.sysctls) : [];
  const ca = new Map((ra?.claims ?? []).map((c) => [c.id, c]));
  const cb = new Map((rb?.claims ?? []).map((c) => [c.id, c]));
  const claims: ClaimRow[] = [];
  const figures: FigureDiff[] = [];
  for (const id of sorted([...ca.keys(), ...cb.keys()])) {
    const x = ca.get(id);
    const y = cb.get(id);
    claims.push({ claim: id, ...(x ? { a: x.verdict } : {}), ...(y ? { b: y.verdict } : {}), differs: x?.verdict !== y?.verdict });
    if (!x || !y) continue; // a claim on one side only is a verdict difference already
    const kx = checksByWhat(x.checks);
    const ky = checksByWhat(y.checks);
    for (const what of new Set([...kx.keys(), ...ky.keys()])) {
      const fa = kx.has(what) ? figure(kx.get(what)!) : undefined;
      const fb = ky.has(what) ? figure(ky.get(what)!) : undefined;
      if (fa !== fb) figures.push({ claim: id, what, ...(fa === undefined ? {} : { a: fa }), ...(fb === undefined ? {} : { b: fb }) });
    }
  }
  const outcomeDiffers = outcomeA !== outcomeB ? 1 : 0;
  const differences = outcomeDiffers + options.length + sysctls.length + claims.filter((c) => c.differs).length + figures.length;
  return { lab, ...(outcomeA ? { a: outcomeA } : {}), ...(outcomeB ? { b: outcomeB } : {}), options, sysctls, claims, figures, differences };
}

function otherFacts(m: MachineFacts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['distribution', 'node', 'iproute2', 'nft'] as const) if (m[k] !== undefined) out[k] = m[k]!;
  if (m.cpus) out.cpus = `${m.cpus.count}${m.cpus.model ? ` × ${m.cpus.model}` : ''}`;
  return out;
}

/** Compare two loaded runs (A and B). */
export function compareRuns(a: LoadedRun, b: LoadedRun, labels: { a?: string; b?: string } = {}): Comparison {
  const ma = a.marker?.machine;
  const mb = b.marker?.machine;
  const labs = sorted([...a.labs.map((l) => l.name), ...b.labs.map((l) => l.name)]).map((name) => {
    const la = a.labs.find((l) => l.name === name);
    const lb = b.labs.find((l) => l.name === name);
    const outcome = (l?: LoadedRun['labs'][number]) => (l ? (l.result?.outcome ?? 'no result') : undefined);
    return compareLab(name, la?.result, lb?.result, outcome(la), outcome(lb));
  });
  const machine = ma && mb ? diffRecords(otherFacts(ma), otherFacts(mb)) : [];
  const sysctls = ma?.sysctls && mb?.sysctls ? diffRecords(ma.sysctls, mb.sysctls) : [];
  const kernelDiffers = !!a.kernel && !!b.kernel && a.kernel !== b.kernel;
  const side = (r: LoadedRun, label?: string) => ({ label: label ?? r.id, id: r.id, ...(r.kernel ? { kernel: r.kernel } : {}), status: r.status });
  return {
    a: side(a, labels.a),
    b: side(b, labels.b),
    kernelDiffers,
    machine,
    sysctls,
    labs,
    differences: (kernelDiffers ? 1 : 0) + machine.length + sysctls.length + labs.reduce((n, l) => n + l.differences, 0),
  };
}

/** textTable without the trailing blanks an empty last column leaves. */
function table(columns: readonly string[], rows: readonly (readonly string[])[], indent?: string): string {
  return textTable(columns, rows, indent).split('\n').map((l) => l.trimEnd()).join('\n');
}

function pairs(rows: readonly ValueDiff[], prefix = ''): string[][] {
  return rows.map((r) => [`${prefix}${r.name}`, r.a ?? '(absent)', r.b ?? '(absent)']);
}

/** The comparison as text for a terminal. */
export function formatComparison(c: Comparison): string {
  const out: string[] = [`A: ${c.a.label} (${c.a.status})`, `B: ${c.b.label} (${c.b.status})`, ''];
  if (c.kernelDiffers) out.push(`kernel differs: A ${c.a.kernel}, B ${c.b.kernel}`);
  else out.push(`kernel: ${c.a.kernel && c.a.kernel === c.b.kernel ? `${c.a.kernel} on both` : `A ${c.a.kernel ?? 'unknown'}, B ${c.b.kernel ?? 'unknown'}`}`);
  if (c.machine.length) out.push('machine facts that differ:', table(['FACT', 'A', 'B'], pairs(c.machine)));
  if (c.sysctls.length) out.push('kernel defaults (fresh network namespace) that differ:', table(['SYSCTL', 'A', 'B'], pairs(c.sysctls)));
  for (const l of c.labs) {
    out.push('');
    const where = l.a === undefined ? ' (only in B)' : l.b === undefined ? ' (only in A)' : '';
    out.push(`${l.lab}${where}: outcome A ${l.a ?? '—'}, B ${l.b ?? '—'}${l.a !== l.b ? '  ≠' : ''}`);
    if (l.options.length) out.push('  lab options that differ:', table(['OPTION', 'A', 'B'], pairs(l.options, '--'), '    '));
    if (l.sysctls.length) out.push('  sysctls set by the lab that differ:', table(['SYSCTL', 'A', 'B'], pairs(l.sysctls), '    '));
    if (l.claims.length) out.push(table(['CLAIM', 'A', 'B', ''], l.claims.map((r) => [r.claim, r.a ?? '—', r.b ?? '—', r.differs ? '≠' : ''])));
    if (l.figures.length) {
      out.push('  measured figures that differ:');
      for (const f of l.figures) out.push(`    ${f.claim}: ${f.what}: A ${f.a ?? '(no such check)'}, B ${f.b ?? '(no such check)'}`);
    }
  }
  out.push('', c.differences ? `${c.differences} difference${c.differences === 1 ? '' : 's'}` : 'no differences');
  return out.join('\n') + '\n';
}
