// writeup.md: one lab's run as a short article section a writer can paste: the claims and their articles, the
// set-up, the steps with the ss excerpts that matter, the evidence (tables, diagrams, packet captures), the
// verdicts with how each was reached, and what each means. The story is read once by story.ts (shared with
// report.html); this file only renders it as Markdown.
import type { LabResult, SnapshotRecord, TableRecord } from '../evidence/records.ts';
import { isCompact } from '../evidence/compact.ts';
import { brief, code, mdTable, reproduceCommand, shortSource } from './format.ts';
import { articleLabel, articleTitles, type ArticleTitles } from './sources.ts';
import { checkCells, meaning } from './meaning.ts';
import { censusLine, changeLine, condensedItems, sampleRuns, setupFacts, snapshotLines, stepGroups, type Diagram, type StepItem } from './story.ts';

export { changeLine, diagramsIn, type Diagram } from './story.ts';

export interface WriteupOptions {
  /** article titles by file name (default: read from the seeds' README when it is there) */
  titles?: ArticleTitles;
}

/** A link target: spaces and the like %-encoded, so Markdown viewers follow it. */
function href(file: string): string {
  return encodeURI(file);
}

function evidenceTable(t: TableRecord): string {
  return `### ${t.title}\n\n${mdTable(t.columns, t.rows)}\n${t.note ? `\n${t.note}\n` : ''}`;
}

function snapshotBlock(s: SnapshotRecord, file: string, prev?: SnapshotRecord): string {
  const { lines, more } = snapshotLines(s);
  const change = prev ? `; ${changeLine(prev, s)}` : '';
  const rest = more ? `\n_… ${more} more socket(s) in [snapshots/${file}](snapshots/${href(file)})_\n` : '';
  return `${code('ss -tanoH')} on ${s.host}, "${s.label}" (+${s.atMs} ms): ${censusLine(s)}${change}\n\n\`\`\`\n${lines.join('\n') || '(no TCP sockets)'}\n\`\`\`\n${rest}`;
}

function stepItem(it: StepItem): string {
  if (it.type === 'snapshot') return `\n${snapshotBlock(it.snapshot, it.file, it.prev)}`;
  return `- ${it.event.kind} (${it.event.host}): ${it.event.detail}`;
}

function setupSection(r: LabResult): string {
  const f = setupFacts(r, reproduceCommand(r));
  const more = (n: number) => (n ? `\n  - … and ${n} more (events in result.json)` : '');
  const sysctls = !f.sysctls.length
    ? ' none (kernel defaults)'
    : f.sysctlsGrouped
      ? `\n${f.sysctls.map(([k, v]) => `  - ${code(k)}: ${v}`).join('\n')}`
      : ` ${f.sysctls.map(([k, v]) => code(`${k} = ${v}`)).join(', ')}`;
  const list = [
    `- reproduce: ${code(f.reproduce)}`,
    `- sysctls set inside the lab's own network namespace${f.sysctlsGrouped ? 's' : ''}:${sysctls}`,
    `- hosts (network namespaces) in this run: ${f.hosts.join(', ') || 'none recorded'}${f.more.hosts ? `, and ${f.more.hosts} more` : ''}`,
  ];
  if (f.links.length) list.push(`- links between them:\n${f.links.map((t) => `  - ${t}`).join('\n')}${more(f.more.links)}`);
  if (f.faults.length) list.push(`- segments dropped or counted on purpose (nft rules inside the sandbox):\n${f.faults.map((t) => `  - ${t}`).join('\n')}${more(f.more.faults)}`);
  return ['## Set-up\n', ...(f.text ? [`${f.text}\n`] : []), list.join('\n') + '\n'].join('\n');
}

function stepsSection(r: LabResult): string {
  const out: string[] = ['## Steps\n'];
  const groups = stepGroups(r);
  if (!groups.length) out.push('No step was recorded.\n');
  for (const g of groups) {
    const { items, folded } = condensedItems(g.items);
    const head = g.title === undefined ? '' : `\n**${g.title}** (+${g.at} ms)\n`;
    const fold = folded ? `- ${items.some((it) => it.type === 'event') ? 'and ' : ''}${folded} event(s) not listed (all in result.json)` : '';
    out.push([head, ...items.map(stepItem), fold].filter(Boolean).join('\n') + '\n');
  }
  const large = r.snapshots.filter(isCompact).length;
  const kept = large ? ` (result.json keeps ${large} large one(s) as counts and the sockets that matter; every line is there)` : '';
  if (r.snapshots.length) out.push(`_${r.snapshots.length} snapshot(s) recorded; their raw lines are also in \`snapshots/\` beside this file${kept}._\n`);
  return out.join('\n');
}

function capturesSection(r: LabResult): string {
  const caps = r.captures ?? [];
  if (!caps.length) return '';
  const rows = caps.map((c) => [
    `${c.host}${c.aliases?.length ? ` (also ${c.aliases.join(', ')})` : ''}`,
    `[${c.file}](${href(c.file)})`,
    String(c.frames),
    String(c.bytes),
    String(c.drops),
  ]);
  const out = [`### Packet captures\n\nOne pcap per host, for the whole lab. Open one with ${code(`tcpdump -nr ${caps[0].file}`)} (add \`-tt\` for epoch times) or in Wireshark.\n\n${mdTable(['host', 'file', 'frames', 'bytes', 'drops'], rows)}\n`];
  const dropped = caps.filter((c) => c.drops > 0);
  if (dropped.length) out.push(`The kernel could not queue every frame for the capture: ${dropped.map((c) => `${c.file} lacks ${c.drops}`).join(', ')}.\n`);
  const failed = caps.filter((c) => c.error);
  if (failed.length) out.push(`A capture stopped early (what was read before is in the file): ${failed.map((c) => `${c.file}: ${c.error}`).join('; ')}.\n`);
  return out.join('\n');
}

function evidenceSection(r: LabResult, diagrams: readonly Diagram[]): string {
  const out: string[] = [];
  for (const t of r.tables) out.push(evidenceTable(t));
  for (const d of diagrams) out.push(`### ${d.caption}\n\n![${d.caption.replace(/[[\]]/g, '')}](${href(d.file)})\n`);
  if (r.samples?.length && !diagrams.some((d) => d.kind === 'timeline')) {
    const rows = sampleRuns(r.samples).map((s) => [s.from === s.to ? `+${s.from} ms` : `+${s.from} – ${s.to} ms`, s.host, s.wait, String(s.reads), s.counts]);
    out.push(`### Sockets per state during the waits\n\n${mdTable(['when', 'host', 'waiting for', 'ss reads', 'sockets'], rows)}\n`);
  }
  out.push(capturesSection(r));
  const body = out.filter(Boolean);
  return body.length ? ['## Evidence\n', ...body].join('\n') : '';
}

function verdictsSection(r: LabResult): string {
  const out: string[] = ['## Verdicts\n'];
  for (const c of r.claims) {
    out.push(`### ${c.id}: ${c.verdict}\n`);
    out.push(`What was measured: ${c.observed}\n`);
    if (c.checks?.length) out.push(`How the verdict was reached:\n\n${mdTable(['measured', 'saw', 'the claim expects', 'held'], c.checks.map(checkCells))}\n`);
  }
  return out.join('\n');
}

/** Render a lab result as Markdown; `diagrams` are the SVG files written beside it. */
export function renderWriteup(r: LabResult, diagrams: readonly Diagram[] = [], opts: WriteupOptions = {}): string {
  const titles = opts.titles ?? articleTitles();
  const out: string[] = [`# ${r.title}\n`];
  out.push(
    [
      `- lab: ${code(r.lab)} (outcome: **${r.outcome}**${r.reason ? `: ${brief(r.reason)}` : ''})`,
      `- kernel: ${r.kernel}`,
      `- run at: ${r.startedAt}, took ${r.durationMs} ms`,
      `- files beside this one: [result.json](result.json)${r.snapshots.length ? ', `snapshots/`' : ''}${(r.captures ?? []).length ? ', the pcaps below' : ''}`,
    ].join('\n') + '\n',
  );
  out.push('## Claims\n');
  if (!r.claims.length) out.push('This lab graded no claim.\n');
  else {
    out.push(mdTable(['claim', 'article', 'verdict', 'what the kernel did'], r.claims.map((c) => [c.id, shortSource(c.source), `**${c.verdict}**`, c.observed])) + '\n');
    for (const c of r.claims) out.push(`- **${c.id}**, from the article ${articleLabel(c.source, titles)}, ${code(c.source)}: ${c.statement}`);
    out.push('');
  }
  out.push(setupSection(r));
  out.push(stepsSection(r));
  const evidence = evidenceSection(r, diagrams);
  if (evidence) out.push(evidence);
  if (r.claims.length) {
    out.push(verdictsSection(r));
    out.push(`## What it means\n\n${r.claims.map((c) => `- **${c.id}** (${c.verdict}): ${meaning(c, r.kernel)}`).join('\n')}\n`);
  }
  // blank-line runs left by empty parts collapse to one (no code block here holds a blank line)
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}
