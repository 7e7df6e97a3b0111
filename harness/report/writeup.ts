// writeup.md: the run told as a story a person can paste into an article: claims, verdicts, evidence, steps.
import { census, formatCensus, RFC_NAME } from '../census.ts';
import type { LabResult, SnapshotRecord, TableRecord } from '../result.ts';
import { formatRecord } from '../ss.ts';
import { reproduceCommand, shortSource } from './format.ts';

function mdTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${columns.map(esc).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function evidenceTable(t: TableRecord): string {
  return `### ${t.title}\n\n${mdTable(t.columns, t.rows)}\n${t.note ? `\n${t.note}\n` : ''}`;
}

function snapshotBlock(s: SnapshotRecord): string {
  const lines = s.sockets.map(formatRecord);
  const counts = census(s.sockets);
  const rfc = Object.entries(counts).map(([k, v]) => `${RFC_NAME[k as keyof typeof RFC_NAME]} ${v}`).join(', ');
  return `\`ss -tanoH\` on ${s.host}, "${s.label}" (+${s.atMs} ms): ${formatCensus(counts)}${rfc ? ` (${rfc})` : ''}\n\n\`\`\`\n${lines.join('\n') || '(no TCP sockets)'}\n\`\`\`\n`;
}

/** Render a lab result as Markdown. */
export function renderWriteup(r: LabResult): string {
  const out: string[] = [];
  out.push(`# ${r.title}\n`);
  out.push(
    [
      `- lab: \`${r.lab}\` (outcome: **${r.outcome}**${r.reason ? `: ${r.reason}` : ''})`,
      `- kernel: ${r.kernel}`,
      `- run at: ${r.startedAt}, took ${r.durationMs} ms`,
      `- reproduce: \`${reproduceCommand(r)}\``,
      `- sysctls set inside the lab's own network namespace: ${Object.keys(r.sysctls).length ? Object.entries(r.sysctls).map(([k, v]) => `\`${k} = ${v}\``).join(', ') : 'none (kernel defaults)'}`,
    ].join('\n') + '\n',
  );
  out.push('## Verdicts\n');
  out.push(mdTable(['claim', 'article', 'verdict', 'what the kernel did'], r.claims.map((c) => [c.id, shortSource(c.source), `**${c.verdict}**`, c.observed])) + '\n');
  for (const c of r.claims) out.push(`- **${c.id}** (${c.source}): ${c.statement}\n`);
  if (r.tables.length) {
    out.push('## Evidence\n');
    for (const t of r.tables) out.push(evidenceTable(t));
  }
  out.push('## What happened, step by step\n');
  const items = [
    ...r.events.map((e) => ({ at: e.atMs, text: e.kind === 'step' ? `\n**${e.detail}** (+${e.atMs} ms)\n` : `- ${e.kind} (${e.host}): ${e.detail}` })),
    ...r.snapshots.map((s) => ({ at: s.atMs, text: `\n${snapshotBlock(s)}` })),
  ];
  items.sort((a, b) => a.at - b.at);
  out.push(items.map((i) => i.text).join('\n') + '\n');
  if (r.snapshots.length) out.push(`\n_${r.snapshots.length} snapshot(s) recorded; their raw lines are also in \`snapshots/\` beside this file._\n`);
  return out.join('\n');
}
