// The terminal view of a suite (several labs at once): a live list of the running labs with their latest
// progress (countdowns on timer waits) and a line per lab as its verdicts land; plain lines when not a terminal;
// then one summary table. Also the per-claim stability of repeated runs.
import type { LabMessage } from '../lab/context.ts';
import type { LabResult, Verdict } from '../evidence/records.ts';
import { brief, textTable } from './format.ts';
import type { Printer } from './console.ts';

const VERDICTS: Verdict[] = ['confirmed', 'refuted', 'partly', 'inconclusive'];
const PLAIN_PROGRESS_EVERY_MS = 10_000;

function secs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** "2 confirmed, 1 refuted" (verdicts in a fixed order, none left out but zero counts). */
export function verdictSummary(r: Pick<LabResult, 'claims'>): string {
  return VERDICTS.map((v) => [v, r.claims.filter((c) => c.verdict === v).length] as const).filter(([, n]) => n).map(([v, n]) => `${n} ${v}`).join(', ') || 'no claims';
}

interface Running {
  lab: string;
  started: number;
  text: string;
  printedAt: number;
}

/** Live display of a suite; `done()` stops its timer. */
export class SuiteDisplay {
  private readonly running = new Map<string, Running>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private finishedCount = 0;

  constructor(private readonly p: Printer, private readonly total: number) {
    if (p.isTTY) this.timer = setInterval(() => this.redraw(), 250);
  }

  private clear(): void {
    if (this.drawn) this.p.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    if (!this.p.isTTY) return;
    this.clear();
    const now = Date.now();
    const width = Math.max(40, (this.p.columns || 100) - 1);
    const lines = [...this.running.values()].map((r) => `  … ${r.lab}  ${secs(now - r.started)}${r.text ? `  ${r.text}` : ''}`.slice(0, width));
    lines.push(`  ${this.finishedCount}/${this.total} done, ${this.running.size} running`);
    this.p.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }

  /** A permanent line above the live list. */
  line(text: string): void {
    this.clear();
    this.p.write(text + '\n');
    this.redraw();
  }

  started(key: string, lab: string): void {
    this.running.set(key, { lab: key === lab ? lab : key, started: Date.now(), text: '', printedAt: Date.now() });
    if (this.p.isTTY) this.redraw();
    else this.p.write(`start ${key}\n`);
  }

  message(key: string, m: LabMessage): void {
    const r = this.running.get(key);
    if (!r) return;
    if (m.type === 'progress') r.text = m.text;
    else if (m.type === 'event' && m.event.kind === 'step') r.text = m.event.detail;
    else return;
    // without a terminal, a long wait still says it is alive, every 10 s
    if (!this.p.isTTY && m.type === 'progress' && Date.now() - r.printedAt >= PLAIN_PROGRESS_EVERY_MS) {
      r.printedAt = Date.now();
      this.p.write(`  ${key}: ${m.text}\n`);
    }
  }

  finished(key: string, r: LabResult): void {
    this.running.delete(key);
    this.finishedCount++;
    const what = r.outcome === 'ran' ? verdictSummary(r) : `${r.outcome}: ${brief(r.reason ?? '', 160)}`;
    this.line(`${r.outcome === 'ran' ? 'done' : r.outcome === 'skipped' ? 'skip' : 'FAIL'} ${key}  ${what}  (${secs(r.durationMs)})`);
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}

/** The closing table: one row per lab run. */
export function suiteTable(rows: { key: string; result: LabResult }[]): string {
  return textTable(
    ['LAB', 'OUTCOME', ...VERDICTS.map((v) => v.toUpperCase()), 'TIME'],
    rows.map(({ key, result: r }) => [key, r.outcome, ...VERDICTS.map((v) => String(r.claims.filter((c) => c.verdict === v).length)), secs(r.durationMs)]),
  );
}

export interface ClaimStability {
  lab: string;
  claim: string;
  verdicts: Partial<Record<Verdict, number>>;
  stable: boolean;
  /** numeric figures the checks measured: spread over the runs */
  figures: { what: string; unit?: string; min: number; median: number; max: number; n: number }[];
  /**
   * checks that saw different text or yes/no values in different runs (an errno, an outcome; numbers inside a text
   * do not count): a claim can keep its verdict while one of its cells flips, and that flip is worth a look
   */
  varied: { what: string; seen: Record<string, number> }[];
}

/** Per claim over repeated runs of the same labs: how often each verdict came, and the spread of its figures. */
export function stability(results: LabResult[]): ClaimStability[] {
  const out = new Map<string, ClaimStability & { values: Map<string, { unit?: string; xs: number[] }>; texts: Map<string, Map<string, { text: string; n: number }>> }>();
  for (const r of results) {
    for (const c of r.claims) {
      const key = `${r.lab}\u0000${c.id}`;
      const s = out.get(key) ?? { lab: r.lab, claim: c.id, verdicts: {} as Partial<Record<Verdict, number>>, stable: true, figures: [], varied: [], values: new Map(), texts: new Map() };
      s.verdicts[c.verdict] = (s.verdicts[c.verdict] ?? 0) + 1;
      for (const k of c.checks ?? []) {
        if (typeof k.saw === 'string' || typeof k.saw === 'boolean') {
          // numbers inside a text ("reused after 1097 ms") are a figure's spread, not another outcome: the first
          // text of each shape stands for it
          const shape = String(k.saw).replace(/\d+(\.\d+)?/g, '#');
          const seen = s.texts.get(k.what) ?? new Map<string, { text: string; n: number }>();
          const one = seen.get(shape) ?? { text: String(k.saw), n: 0 };
          one.n++;
          seen.set(shape, one);
          s.texts.set(k.what, seen);
        }
        if (typeof k.saw !== 'number' || !Number.isFinite(k.saw)) continue;
        const v = s.values.get(k.what) ?? { unit: k.unit, xs: [] };
        v.xs.push(k.saw);
        s.values.set(k.what, v);
      }
      out.set(key, s);
    }
  }
  return [...out.values()].map(({ values, texts, ...s }) => ({
    ...s,
    stable: Object.keys(s.verdicts).length === 1,
    varied: [...texts].filter(([, seen]) => seen.size > 1).map(([what, seen]) => ({ what, seen: Object.fromEntries([...seen.values()].map((v) => [v.text, v.n])) })),
    figures: [...values].filter(([, v]) => v.xs.length > 1).map(([what, v]) => {
      const xs = [...v.xs].sort((a, b) => a - b);
      return { what, ...(v.unit ? { unit: v.unit } : {}), min: xs[0], median: xs[Math.floor(xs.length / 2)], max: xs[xs.length - 1], n: xs.length };
    }),
  }));
}

/** Markdown (and terminal) text of the stability of repeated runs; unstable claims first. */
export function stabilityText(s: ClaimStability[], repeat: number): string {
  const unstable = s.filter((x) => !x.stable);
  const varied = s.filter((x) => x.stable && x.varied.length);
  const lines = [`# Stability over ${repeat} runs of each lab`, '', unstable.length ? `Unstable claims (the verdict differed between runs): ${unstable.map((x) => `${x.lab}/${x.claim}`).join(', ')}` : `Every claim got the same verdict in all ${repeat} runs.`, ''];
  if (varied.length) lines.push(`Same verdict, but a check saw different values between runs: ${varied.map((x) => `${x.lab}/${x.claim}`).join(', ')}`, '');
  lines.push('| lab | claim | verdicts | figures (min / median / max) | values that differed |', '| --- | --- | --- | --- | --- |');
  for (const x of [...unstable, ...varied, ...s.filter((y) => y.stable && !y.varied.length)]) {
    const v = VERDICTS.filter((k) => x.verdicts[k]).map((k) => `${k} ×${x.verdicts[k]}`).join(', ');
    const f = x.figures.filter((g) => g.min !== g.max).map((g) => `${g.what}: ${g.min} / ${g.median} / ${g.max}${g.unit ? ` ${g.unit}` : ''}`).join('; ') || '—';
    const d = variedText(x) || '—';
    lines.push(`| ${x.lab} | ${x.claim}${x.stable ? '' : ' **(unstable)**'} | ${v} | ${f.replace(/\|/g, '\\|')} | ${d.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}

/** "check: a ×2, b ×1; ..." for the checks of a claim whose text or yes/no values differed between runs */
export function variedText(x: Pick<ClaimStability, 'varied'>): string {
  return x.varied.map((v) => `${v.what}: ${Object.entries(v.seen).map(([k, n]) => `${k} ×${n}`).join(', ')}`).join('; ');
}
