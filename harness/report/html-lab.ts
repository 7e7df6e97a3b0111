// One lab's section of report.html: the same story as its writeup.md (story.ts reads it for both), as HTML:
// claims, set-up, steps with ss excerpts, evidence (tables, inline diagrams, captures), verdicts with their
// checks, what each means, and links to the files in the lab's folder.
import type { CaptureRecord, LabResult, SnapshotRecord } from '../evidence/records.ts';
import { brief, reproduceCommand } from './format.ts';
import { badge, claimAnchor, esc, fileHref, inlineSvg, labAnchor, slug, table } from './html-kit.ts';
import { checkCells, meaning } from './meaning.ts';
import { articleLabel, type ArticleTitles } from './sources.ts';
import { censusLine, changeLine, condensedItems, sampleRuns, setupFacts, snapshotLines, stepGroups, type StepItem } from './story.ts';

/** A diagram to inline: its file beside result.json and the SVG text read from it. */
export interface HtmlDiagram {
  file: string;
  kind: string;
  host?: string;
  caption: string;
  svg: string;
}

/** One lab of the run as report.html shows it: its result, its diagrams, and the names of its folder's files. */
export interface HtmlLab {
  result: LabResult;
  diagrams: HtmlDiagram[];
  /** file names in the lab folder (result.json, writeup.md, capture-*.pcap, *.svg, snapshots/...) */
  files: string[];
}

/** A diagram wider than this (px) is not shrunk to the column on screen. */
const WIDE_PX = 1000;

function link(lab: string, file: string, text = file): string {
  return `<a href="${esc(fileHref(lab, file))}">${esc(text)}</a>`;
}

/** Past this many pcaps or diagrams, the files line counts them (the evidence section links each one). */
const LIST_AT_MOST = 3;

function filesLine(l: HtmlLab): string {
  const lab = l.result.lab;
  const files = [...l.files].sort();
  const pcaps = files.filter((f) => f.endsWith('.pcap'));
  const svgs = files.filter((f) => f.endsWith('.svg'));
  const isSnap = (f: string) => f === 'snapshots' || f.startsWith('snapshots/');
  const parts = [
    ...['writeup.md', 'result.json'].filter((f) => files.includes(f)).map((f) => link(lab, f)),
    ...(files.some(isSnap) ? [link(lab, 'snapshots/')] : []),
    ...(pcaps.length > LIST_AT_MOST ? [`<a href="#${labAnchor(lab)}-captures">${pcaps.length} pcaps</a>`] : pcaps.map((f) => link(lab, f))),
    ...(svgs.length > LIST_AT_MOST ? [`<a href="#${labAnchor(lab)}-evidence">${svgs.length} diagrams</a>`] : svgs.map((f) => link(lab, f))),
    ...files.filter((f) => !['writeup.md', 'result.json', ...pcaps, ...svgs].includes(f) && !isSnap(f)).map((f) => link(lab, f)),
  ];
  return parts.length ? `<p class="files"><span class="note">Files in <code>${esc(lab)}/</code>:</span> ${parts.join(' ')}</p>` : '';
}

function claimsPart(r: LabResult, titles: ArticleTitles): string {
  if (!r.claims.length) return '<h3>Claims</h3><p class="note">This lab graded no claim.</p>';
  const items = r.claims.map(
    (c) =>
      `<li><a href="#${claimAnchor(r.lab, c.id)}"><strong>${esc(c.id)}</strong></a> ${badge(c.verdict)}<br>` +
      `<span class="statement">${esc(c.statement)}</span><br><span class="article">from the article ${esc(articleLabel(c.source, titles))}, <code>${esc(c.source)}</code></span></li>`,
  );
  return `<h3>Claims</h3><ul class="claims">${items.join('\n')}</ul>`;
}

function setupPart(r: LabResult): string {
  const f = setupFacts(r, reproduceCommand(r));
  const more = (n: number) => (n ? `<li class="note">… and ${n} more (events in result.json)</li>` : '');
  const rows: string[] = [
    `<dt>reproduce</dt><dd><code>${esc(f.reproduce)}</code></dd>`,
    `<dt>sysctls set</dt><dd>${
      !f.sysctls.length
        ? 'none (kernel defaults)'
        : f.sysctlsGrouped
          ? `<ul class="events">${f.sysctls.map(([k, v]) => `<li><code>${esc(k)}</code>: ${esc(v)}</li>`).join('')}</ul>`
          : f.sysctls.map(([k, v]) => `<code>${esc(`${k} = ${v}`)}</code>`).join(', ')
    } <span class="note">(inside the lab's own network namespace${f.sysctlsGrouped ? 's' : ''})</span></dd>`,
    `<dt>hosts</dt><dd>${esc(f.hosts.join(', ') || 'none recorded')}${f.more.hosts ? `, and ${f.more.hosts} more` : ''}</dd>`,
  ];
  if (f.links.length) rows.push(`<dt>links</dt><dd><ul class="events">${f.links.map((t) => `<li>${esc(t)}</li>`).join('')}${more(f.more.links)}</ul></dd>`);
  if (f.faults.length) rows.push(`<dt>dropped on purpose</dt><dd><ul class="events">${f.faults.map((t) => `<li>${esc(t)}</li>`).join('')}${more(f.more.faults)}</ul><span class="note">nft rules inside the sandbox</span></dd>`);
  return `<h3>Set-up</h3>${f.text ? `<p>${esc(f.text)}</p>` : ''}<dl class="facts">${rows.join('\n')}</dl>`;
}

function snapshotHtml(lab: string, s: SnapshotRecord, file: string, prev?: SnapshotRecord): string {
  const { lines, more } = snapshotLines(s);
  const change = prev ? `; ${changeLine(prev, s)}` : '';
  return [
    '<div class="snap">',
    `<div class="snap-head"><code>ss -tanoH</code> on ${esc(s.host)}, “${esc(s.label)}” <span class="t">+${Number(s.atMs)} ms</span><br>${esc(censusLine(s) + change)}</div>`,
    `<pre>${esc(lines.join('\n') || '(no TCP sockets)')}</pre>`,
    more ? `<p class="more">… ${more} more socket(s) in ${link(lab, `snapshots/${file}`, `snapshots/${file}`)}</p>` : '',
    '</div>',
  ].join('');
}

function itemsHtml(lab: string, items: readonly StepItem[], folded: string): string {
  const out: string[] = [];
  let events: string[] = [];
  const flush = () => {
    if (events.length) out.push(`<ul class="events">${events.join('')}</ul>`);
    events = [];
  };
  for (const it of items) {
    if (it.type === 'event') events.push(`<li><span class="kind">${esc(it.event.kind)}</span> ${esc(it.event.detail)}${it.event.host === 'sandbox' ? '' : ` <span class="t">${esc(it.event.host)}</span>`}</li>`);
    else {
      flush();
      out.push(snapshotHtml(lab, it.snapshot, it.file, it.prev));
    }
  }
  if (folded) events.push(`<li class="note">${items.some((it) => it.type === 'event') ? 'and ' : ''}${esc(folded)} event(s) not listed (all in result.json)</li>`);
  flush();
  return out.join('');
}

function stepsPart(r: LabResult): string {
  const groups = stepGroups(r);
  if (!groups.length) return '<h3>Steps</h3><p class="note">No step was recorded.</p>';
  const out: string[] = [];
  const lead = groups[0].title === undefined ? groups.shift()! : undefined;
  if (lead) {
    const { items, folded } = condensedItems(lead.items);
    out.push(`<div class="note">Before the first step:</div>${itemsHtml(r.lab, items, folded)}`);
  }
  const steps = groups.map((g) => {
    const { items, folded } = condensedItems(g.items);
    return `<li><div class="step-title">${esc(g.title ?? '')}<span class="t">+${Number(g.at)} ms</span></div>${itemsHtml(r.lab, items, folded)}</li>`;
  });
  return `<h3>Steps</h3>${out.join('')}<ol class="steps">${steps.join('\n')}</ol>`;
}

function capturesHtml(lab: string, caps: readonly CaptureRecord[]): string {
  if (!caps.length) return '';
  const rows = caps.map((c) => [`${c.host}${c.aliases?.length ? ` (also ${c.aliases.join(', ')})` : ''}`, c.file, String(c.frames), String(c.bytes), String(c.drops), c.error ?? '']);
  const hasError = caps.some((c) => c.error);
  const cols = ['host', 'file', 'frames', 'bytes', 'drops', ...(hasError ? ['stopped early'] : [])];
  const body = table(cols, hasError ? rows : rows.map((r) => r.slice(0, 5)), { cls: 'captures', html: (i, v) => (i === 1 ? link(lab, v) : undefined) });
  const drops = caps.filter((c) => c.drops > 0);
  return [
    `<h4 id="${labAnchor(lab)}-captures">Packet captures</h4>`,
    `<p class="note">One pcap per host, for the whole lab. Open one with <code>tcpdump -nr ${esc(caps[0].file)}</code> (in the lab folder; add <code>-tt</code> for epoch times) or in Wireshark.</p>`,
    body,
    drops.length ? `<p class="note">The kernel could not queue every frame for the capture: ${esc(drops.map((c) => `${c.file} lacks ${c.drops}`).join(', '))}.</p>` : '',
  ].join('');
}

function evidencePart(l: HtmlLab): string {
  const r = l.result;
  const out: string[] = [];
  for (const t of r.tables) out.push(`${table(t.columns, t.rows, { caption: t.title })}${t.note ? `<p class="note">${esc(t.note)}</p>` : ''}`);
  l.diagrams.forEach((d, i) => {
    const svg = inlineSvg(d.svg, `${slug(r.lab)}-d${i + 1}-`);
    // wider than the column: shown at its own size and scrolled sideways on screen (fitted to the page in print)
    const wide = Number(/^<svg\b[^>]*?\swidth="([0-9.]+)"/.exec(svg)?.[1] ?? 0) > WIDE_PX;
    out.push(`<figure id="${esc(`${labAnchor(r.lab)}-${slug(d.file)}`)}"${wide ? ' class="wide"' : ''}>${svg}<figcaption>${esc(d.caption)} · ${link(r.lab, d.file)}${wide ? ' (opens at full size)' : ''}</figcaption></figure>`);
  });
  if (r.samples?.length && !l.diagrams.some((d) => d.kind === 'timeline')) {
    const rows = sampleRuns(r.samples).map((s) => [s.from === s.to ? `+${s.from} ms` : `+${s.from} – ${s.to} ms`, s.host, s.wait, String(s.reads), s.counts]);
    out.push(table(['when', 'host', 'waiting for', 'ss reads', 'sockets'], rows, { caption: 'Sockets per state during the waits' }));
  }
  out.push(capturesHtml(r.lab, r.captures ?? []));
  const body = out.filter(Boolean).join('\n');
  return body ? `<h3 id="${labAnchor(r.lab)}-evidence">Evidence</h3>${body}` : '';
}

function verdictsPart(r: LabResult, titles: ArticleTitles): string {
  if (!r.claims.length) return '';
  const held = (i: number, v: string) => (i !== 3 ? undefined : v === 'yes' ? 'ok' : v.startsWith('no') ? 'bad' : undefined);
  const claims = r.claims.map((c) => {
    const checks = c.checks?.length
      ? table(['measured', 'saw', 'the claim expects', 'held'], c.checks.map(checkCells), { cls: 'checks', tdClass: held })
      : '';
    return [
      `<article class="claim c-${esc(c.verdict)}" id="${claimAnchor(r.lab, c.id)}">`,
      `<h4>${esc(c.id)} ${badge(c.verdict)}</h4>`,
      `<p><span class="statement">${esc(c.statement)}</span> <span class="article">(${esc(articleLabel(c.source, titles))})</span></p>`,
      `<p><strong>Measured:</strong> ${esc(c.observed)}</p>`,
      checks,
      `<p class="means"><strong>What it means.</strong> ${esc(meaning(c, r.kernel))}</p>`,
      '</article>',
    ].join('\n');
  });
  return `<h3>Verdicts</h3>${claims.join('\n')}`;
}

/** The lab's whole section. */
export function labSection(l: HtmlLab, titles: ArticleTitles): string {
  const r = l.result;
  const meta = [`lab <code>${esc(r.lab)}</code>`, `outcome <strong>${esc(r.outcome)}</strong>${r.reason ? `: ${esc(brief(r.reason))}` : ''}`, esc(r.kernel), `run at ${esc(r.startedAt)}`, `took ${Number(r.durationMs)} ms`];
  return [
    `<section class="lab" id="${labAnchor(r.lab)}">`,
    `<h2>${esc(r.title)}</h2>`,
    `<p class="sub">${meta.join(' · ')}</p>`,
    filesLine(l),
    claimsPart(r, titles),
    setupPart(r),
    stepsPart(r),
    evidencePart(l),
    verdictsPart(r, titles),
    '</section>',
  ].filter(Boolean).join('\n');
}
