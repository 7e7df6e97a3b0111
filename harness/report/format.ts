// Small text helpers shared by the console report and the writeup.
import type { LabResult } from '../evidence/records.ts';

/** Short name of a seed article: "000_c4090bf7a4c28683.txt" → "000". */
export function shortSource(source: string): string {
  return source.split('_')[0];
}

/** A reason or message for a report: its first line, at most `max` characters (the whole text is in result.json). */
export function brief(text: string, max = 300): string {
  const first = text.split('\n')[0];
  return first.length > max ? `${first.slice(0, max)}... (full text in result.json)` : first.length < text.length ? `${first} (more in result.json)` : first;
}

/** Plain-text table with padded columns. */
export function textTable(columns: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(columns), ...rows.map(line)].join('\n');
}

/** The command line that reproduces a run with the same lab options. */
export function reproduceCommand(r: Pick<LabResult, 'lab' | 'options'>): string {
  const opts = Object.entries(r.options).map(([k, v]) => `--${k} ${Array.isArray(v) ? v.join(',') : String(v)}`);
  return `npm run lab ${r.lab}${opts.length ? ` -- ${opts.join(' ')}` : ''}`;
}

/** One Markdown table cell: backslashes and pipes escaped, line breaks as spaces. */
function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table (used by the writeup and the run index). */
export function mdTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(columns), `| ${columns.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** `code` in Markdown, safe when the text itself has backticks. */
export function code(s: string): string {
  return s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``;
}
