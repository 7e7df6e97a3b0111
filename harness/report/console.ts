// The human report on the terminal: live progress while the lab runs, then the verdict table.
import { filterSockets, formatCensus, census } from '../evidence/census.ts';
import type { LabMessage } from '../lab/context.ts';
import type { LabResult } from '../evidence/records.ts';
import { formatRecord } from '../evidence/ss.ts';
import { shortSource, textTable } from './format.ts';

const MAX_LINES = 12;

export interface Printer {
  write(text: string): void;
  isTTY: boolean;
  columns?: number;
}

const COLORS: Record<string, string> = { confirmed: '32', refuted: '31', partly: '33', inconclusive: '90', skipped: '90', error: '31' };

function paint(p: Printer, word: string, text = word): string {
  return p.isTTY && COLORS[word] ? `\x1b[${COLORS[word]}m${text}\x1b[0m` : text;
}

/** Returns a handler that prints lab messages as they arrive. */
export function liveReporter(p: Printer): (m: LabMessage) => void {
  let transient = false;
  const out = (text: string) => {
    if (transient) p.write('\r\x1b[K');
    transient = false;
    p.write(text + '\n');
  };
  return (m) => {
    switch (m.type) {
      case 'progress':
        if (p.isTTY) {
          p.write(`\r\x1b[K  … ${m.text}`);
          transient = true;
        } else out(`  … ${m.text}`);
        return;
      case 'event': {
        const e = m.event;
        if (e.kind === 'step') out(`\n▶ ${e.detail}  (+${e.atMs} ms)`);
        else out(`  ${e.kind}: ${e.detail}`);
        return;
      }
      case 'snapshot': {
        const s = m.snapshot;
        // from the runner: the census and the first focused lines only (liveView); elsewhere the whole snapshot
        const shown = m.matched !== undefined || !m.focus ? s.sockets : filterSockets(s.sockets, m.focus);
        const count = m.matched ?? shown.length;
        out(`  ss -tanoH [${s.label}] on ${s.host}: ${formatCensus(m.census ?? census(s.sockets))}${m.focus ? `; ${count} shown` : ''}`);
        for (const r of shown.slice(0, MAX_LINES)) out(`    ${formatRecord(r)}`);
        if (count > MAX_LINES) out(`    … ${count - MAX_LINES} more (all in the results folder)`);
        return;
      }
      case 'verdict':
        out(`  verdict ${m.claim.id}: ${paint(p, m.claim.verdict)}`);
        return;
    }
  };
}

function fit(p: Printer, text: string, used: number): string {
  if (!p.isTTY || !p.columns) return text;
  const room = Math.max(20, p.columns - used);
  return text.length > room ? text.slice(0, room - 1) + '…' : text;
}

/** The closing summary: evidence tables, then one row per claim (claim, source, verdict, observation). */
export function finalReport(p: Printer, r: LabResult, where?: string): void {
  p.write('\n');
  for (const t of r.tables) {
    p.write(`${t.title}\n${textTable(t.columns, t.rows)}\n${t.note ? `  (${t.note})\n` : ''}\n`);
  }
  if (r.outcome !== 'ran') p.write(`${paint(p, r.outcome, r.outcome.toUpperCase())}: ${r.reason}\n\n`);
  const idWidth = Math.max(5, ...r.claims.map((c) => c.id.length));
  p.write(`Verdicts (${r.lab}, ${r.kernel}, ${r.durationMs} ms)\n`);
  p.write(`  ${'CLAIM'.padEnd(idWidth)}  SOURCE  ${'VERDICT'.padEnd(12)}  OBSERVED\n`);
  for (const c of r.claims) {
    const used = 2 + idWidth + 2 + 6 + 2 + 12 + 2;
    p.write(`  ${c.id.padEnd(idWidth)}  ${shortSource(c.source).padEnd(6)}  ${paint(p, c.verdict, c.verdict.padEnd(12))}  ${fit(p, c.observed, used)}\n`);
  }
  if (where) p.write(`\nresults: ${where}\n`);
  for (const c of r.captures ?? []) {
    const lost = c.drops ? `, ${c.drops} not captured (buffer full)` : '';
    p.write(`packets: ${where ? `${where}/` : ''}${c.file} (${c.host}: ${c.frames} frames${lost}${c.error ? `; ${c.error}` : ''}), open with tcpdump -nr or Wireshark\n`);
  }
}
