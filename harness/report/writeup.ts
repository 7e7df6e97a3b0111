// writeup.md: the run told as a story a person can paste into an article: claims, verdicts, evidence, steps.
import { census, diffSockets, formatCensus, RFC_NAME } from '../evidence/census.ts';
import type { LabResult, SnapshotRecord, TableRecord } from '../evidence/records.ts';
import { formatRecord } from '../evidence/ss.ts';
import { reproduceCommand, shortSource } from './format.ts';

function mdTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${columns.map(esc).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function evidenceTable(t: TableRecord): string {
  return `### ${t.title}\n\n${mdTable(t.columns, t.rows)}\n${t.note ? `\n${t.note}\n` : ''}`;
}

/** "since «label»: 2 new, 1 gone, ESTAB → TIME-WAIT ×3" (what changed between two snapshots of one host). */
export function changeLine(prev: SnapshotRecord, s: SnapshotRecord): string {
  const d = diffSockets(prev.sockets, s.sockets);
  const moves = new Map<string, number>();
  for (const c of d.changed) moves.set(`${c.before.state} → ${c.after.state}`, (moves.get(`${c.before.state} → ${c.after.state}`) ?? 0) + 1);
  const parts = [
    d.added.length ? `${d.added.length} new` : '',
    d.removed.length ? `${d.removed.length} gone` : '',
    ...[...moves].map(([m, n]) => (n > 1 ? `${m} ×${n}` : m)),
  ].filter(Boolean);
  return `since "${prev.label}": ${parts.length ? parts.join(', ') : 'no change'}`;
}

function snapshotBlock(s: SnapshotRecord, prev?: SnapshotRecord): string {
  const lines = s.sockets.map(formatRecord);
  const counts = census(s.sockets);
  const rfc = Object.entries(counts).map(([k, v]) => `${RFC_NAME[k as keyof typeof RFC_NAME]} ${v}`).join(', ');
  const change = prev ? `; ${changeLine(prev, s)}` : '';
  return `\`ss -tanoH\` on ${s.host}, "${s.label}" (+${s.atMs} ms): ${formatCensus(counts)}${rfc ? ` (${rfc})` : ''}${change}\n\n\`\`\`\n${lines.join('\n') || '(no TCP sockets)'}\n\`\`\`\n`;
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
  const checked = r.claims.filter((c) => c.checks?.length);
  if (checked.length) {
    out.push('### How each verdict was reached\n');
    for (const c of checked) {
      out.push(`**${c.id}**: ${c.verdict}\n`);
      out.push(mdTable(['measured', 'saw', 'the claim expects', 'held'], c.checks!.map((k) => [
        `${k.what}${k.role === 'need' ? ' (precondition)' : k.role === 'caveat' ? ' (condition the article does not state)' : ''}`,
        k.saw === undefined ? `not observed${k.why && k.why !== 'not observed' ? ` (${k.why})` : ''}` : `${k.saw}${k.unit ? ` ${k.unit}` : ''}`,
        k.want,
        k.ok === undefined ? '—' : k.ok ? 'yes' : `no${k.why && k.role === 'need' ? ` (${k.why})` : ''}`,
      ])) + '\n');
    }
  }
  if (r.tables.length) {
    out.push('## Evidence\n');
    for (const t of r.tables) out.push(evidenceTable(t));
  }
  out.push('## What happened, step by step\n');
  const items = [
    ...r.events.map((e) => ({ at: e.atMs, text: e.kind === 'step' ? `\n**${e.detail}** (+${e.atMs} ms)\n` : `- ${e.kind} (${e.host}): ${e.detail}` })),
    ...r.snapshots.map((s, i) => {
      const prev = r.snapshots.slice(0, i).reverse().find((p) => p.host === s.host);
      return { at: s.atMs, text: `\n${snapshotBlock(s, prev)}` };
    }),
  ];
  items.sort((a, b) => a.at - b.at);
  out.push(items.map((i) => i.text).join('\n') + '\n');
  if (r.snapshots.length) out.push(`\n_${r.snapshots.length} snapshot(s) recorded; their raw lines are also in \`snapshots/\` beside this file._\n`);
  return out.join('\n');
}
