// Verdicts by kernel: claims as rows, kernels as columns, from lab results that ran on different kernels (one run
// made with --kernel, or several runs). A row whose verdicts differ is marked, and its cells carry the figures
// the verdicts were graded from, so "refuted on 6.1, confirmed on 6.18" comes with the measurements behind it.
import type { Check, LabResult, RanOn, Verdict } from '../evidence/records.ts';
import { mdTable, textTable } from './format.ts';
import { byText } from '../order.ts';

export interface MatrixColumn {
  /** the kernel release (uname -r) */
  release: string;
  ranOn: RanOn;
  /** "6.1.0-57-amd64 (emulated)" */
  label: string;
}

export interface MatrixCell {
  /** the claim's verdict, or the lab's outcome when it did not run there */
  verdict: Verdict | 'skipped' | 'error' | 'missing';
  /** the measured figures behind the verdict (checks that saw something) */
  figures: string[];
  /** why the claim could not be judged there (skipped/error reason, or the inconclusive observation) */
  note?: string;
}

export interface MatrixRow {
  lab: string;
  claim: string;
  statement: string;
  cells: MatrixCell[];
  /** the verdicts of the columns that have one are not all the same */
  differs: boolean;
}

export interface KernelMatrix {
  columns: MatrixColumn[];
  rows: MatrixRow[];
}

/** "Linux 6.1.0-57-amd64 x86_64" → "6.1.0-57-amd64" (uname -srm as labs record it). */
export function releaseOf(kernel: string): string {
  const parts = kernel.trim().split(/\s+/);
  return parts.length >= 2 ? parts[1] : parts[0] || 'unknown';
}

/** What the matrix reads of a lab result. */
export type MatrixInput = Pick<LabResult, 'lab' | 'kernel' | 'outcome' | 'reason' | 'claims'> & { ranOn?: RanOn };

/** Do these results come from more than one kernel (or one kernel run more than one way)? */
export function spansKernels(results: readonly MatrixInput[]): boolean {
  return new Set(results.map((r) => columnOf(r).label)).size > 1;
}

function columnOf(r: MatrixInput): MatrixColumn {
  const release = releaseOf(r.kernel);
  const ranOn: RanOn = r.ranOn ?? 'host';
  return { release, ranOn, label: `${release} (${ranOn})` };
}

/** Compare release strings by their numbers: 6.1.0-57 < 6.12.9 < 6.18.44. */
function byVersion(a: string, b: string): number {
  const nums = (s: string) => (s.match(/\d+/g) ?? []).map(Number);
  const x = nums(a);
  const y = nums(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
  return byText(a, b);
}

function figure(c: Check): string | undefined {
  if (c.saw === undefined) return undefined;
  return `${c.what}: ${String(c.saw)}${c.unit ? ` ${c.unit}` : ''}`;
}

/** Build the matrix from every result given (any order); columns sorted oldest kernel first, host last. */
export function kernelMatrix(results: readonly MatrixInput[]): KernelMatrix {
  const columns = new Map<string, MatrixColumn>();
  for (const r of results) {
    const c = columnOf(r);
    columns.set(c.label, c);
  }
  const cols = [...columns.values()].sort((a, b) => (a.ranOn === 'host' ? 1 : 0) - (b.ranOn === 'host' ? 1 : 0) || byVersion(a.release, b.release));
  const byLab = new Map<string, Map<string, MatrixInput>>();
  for (const r of results) {
    const m = byLab.get(r.lab) ?? new Map<string, MatrixInput>();
    m.set(columnOf(r).label, r); // the last result given for a (lab, kernel) wins
    byLab.set(r.lab, m);
  }
  const rows: MatrixRow[] = [];
  for (const lab of [...byLab.keys()].sort()) {
    const perKernel = byLab.get(lab)!;
    const claims = new Map<string, string>();
    for (const r of perKernel.values()) for (const c of r.claims) if (!claims.has(c.id)) claims.set(c.id, c.statement);
    for (const [claim, statement] of claims) {
      const cells = cols.map((col): MatrixCell => {
        const r = perKernel.get(col.label);
        if (!r) return { verdict: 'missing', figures: [] };
        const c = r.claims.find((x) => x.id === claim);
        if (r.outcome !== 'ran') return { verdict: r.outcome, figures: [], ...(r.reason ? { note: r.reason } : {}) };
        if (!c) return { verdict: 'missing', figures: [] };
        const figures = (c.checks ?? []).map(figure).filter((f): f is string => !!f);
        return { verdict: c.verdict, figures, ...(c.verdict === 'inconclusive' ? { note: c.observed } : {}) };
      });
      const judged = new Set(cells.filter((c) => c.verdict !== 'missing').map((c) => c.verdict));
      rows.push({ lab, claim, statement, cells, differs: judged.size > 1 });
    }
  }
  return { columns: cols, rows };
}

/** Plain text for the terminal: the table, then each differing row with its figures per kernel. */
export function formatMatrix(m: KernelMatrix): string {
  if (!m.rows.length) return 'no lab results to compare\n';
  const head = ['', 'LAB', 'CLAIM', ...m.columns.map((c) => c.label)];
  const body = m.rows.map((r) => [r.differs ? '≠' : ' ', r.lab, r.claim, ...r.cells.map((c) => c.verdict)]);
  const out = [`Verdicts by kernel (${m.columns.length} kernel${m.columns.length === 1 ? '' : 's'}, ${m.rows.length} claims; ≠ marks a claim whose verdict differs):`, textTable(head, body)];
  const differing = m.rows.filter((r) => r.differs);
  out.push('', differing.length ? `${differing.length} claim${differing.length === 1 ? '' : 's'} differ:` : 'No claim differs between these kernels.');
  for (const r of differing) {
    out.push(`  ${r.lab} / ${r.claim}: ${r.statement}`);
    r.cells.forEach((c, i) => {
      const detail = c.figures.length ? c.figures.join('; ') : (c.note ?? '');
      out.push(`    ${m.columns[i].label}: ${c.verdict}${detail ? `: ${oneLine(detail)}` : ''}`);
    });
  }
  return out.join('\n') + '\n';
}

function oneLine(s: string, max = 240): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

/** Markdown for a writeup or the README: differing verdicts in bold with their figures in the cell. */
export function matrixMarkdown(m: KernelMatrix): string {
  const rows = m.rows.map((r) => [
    r.lab,
    r.claim,
    ...r.cells.map((c) => (r.differs && c.verdict !== 'missing' ? `**${c.verdict}**${c.figures.length ? ` (${oneLine(c.figures.join('; '), 160)})` : ''}` : c.verdict)),
  ]);
  return mdTable(['lab', 'claim', ...m.columns.map((c) => c.label)], rows) + '\n';
}
