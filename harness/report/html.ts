// results/<run-id>/report.html: the whole run in one self-contained page (inline CSS and SVG, no script, no
// URL outside the run folder), readable from file:// and printable: the run and its machine, a verdict table
// linking to each claim, a sidebar by lab and claim, then each lab's section (html-lab.ts).
import type { MachineFactsView } from './run-index.ts';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quote, UserError } from '../errors.ts';
import type { LabResult } from '../evidence/records.ts';
import { shortSource } from './format.ts';
import { badge, claimAnchor, CSS, esc, labAnchor, table } from './html-kit.ts';
import { labSection, type HtmlDiagram, type HtmlLab } from './html-lab.ts';
import { articleLabel, articleTitles, type ArticleTitles } from './sources.ts';
import { diagramsIn } from './story.ts';
import { byText } from '../order.ts';

export type { HtmlDiagram, HtmlLab } from './html-lab.ts';

/** The machine facts of run.json (harness/results/machine.ts), every field optional: the run index's view. */
export type ReportMachine = MachineFactsView;

/** What the page shows of run.json (harness/results/store.ts RunMarker has this shape). */
export interface ReportMarker {
  status?: string;
  startedAt?: string;
  endedAt?: string;
  args?: string[];
  labs?: string[];
  signal?: string;
  note?: string;
  machine?: ReportMachine;
}

export interface ReportRun {
  id: string;
  marker?: ReportMarker;
  labs: HtmlLab[];
  /** lab folders with no readable result, and the like: "close-wait-leak: result.json is not valid JSON" */
  problems?: string[];
}

const VERDICTS = ['confirmed', 'refuted', 'partly', 'inconclusive'];

function counts(labs: readonly HtmlLab[]): string {
  const all = labs.flatMap((l) => l.result.claims.map((c) => c.verdict as string));
  const kinds = [...VERDICTS, ...[...new Set(all)].filter((v) => !VERDICTS.includes(v)).sort()];
  return kinds.filter((v) => all.includes(v)).map((v) => `<span class="badge v-${VERDICTS.includes(v) ? v : 'other'}">${all.filter((x) => x === v).length} ${esc(v)}</span>`).join(' ') || 'no claims';
}

function header(run: ReportRun): string {
  const m = run.marker;
  const mc = m?.machine;
  const kernels = [...new Set(run.labs.map((l) => l.result.kernel))];
  const facts: [string, string | undefined][] = [
    ['status', m?.status ? `${m.status}${m.signal ? ` (stopped by ${m.signal})` : ''}` : undefined],
    ['started', m?.startedAt ?? run.labs[0]?.result.startedAt],
    ['ended', m?.endedAt],
    ['command', m?.args?.length ? `npm run lab -- ${m.args.join(' ')}` : undefined],
    ['kernel', mc?.kernel ?? (kernels.join(', ') || undefined)],
    ['distribution', mc?.distribution],
    ['node', mc?.node],
    ['iproute2', mc?.iproute2],
    ['nftables', mc?.nft],
    ['CPUs', mc?.cpus ? `${mc.cpus.count}${mc.cpus.model ? ` × ${mc.cpus.model}` : ''}` : undefined],
    ['note', m?.note],
  ];
  const dl = facts.filter((f): f is [string, string] => f[1] !== undefined).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'command' ? `<code>${esc(v)}</code>` : esc(v)}</dd>`);
  const sysctls = Object.entries(mc?.sysctls ?? {}).sort(([a], [b]) => byText(a, b));
  return [
    '<header id="run">',
    `<h1>tcp-lab run <span class="mono">${esc(run.id)}</span></h1>`,
    `<p class="sub">${run.labs.length} lab(s) · ${counts(run.labs)}</p>`,
    `<dl class="facts">${dl.join('\n')}</dl>`,
    run.problems?.length ? `<p><strong>Problems:</strong></p><ul>${run.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '',
    sysctls.length
      ? `<details><summary>Kernel defaults a fresh network namespace gets (${sysctls.length} sysctls; labs change some inside their own namespace)</summary>${table(['sysctl', 'default'], sysctls)}</details>`
      : '',
    '</header>',
  ].filter(Boolean).join('\n');
}

function verdictTable(labs: readonly HtmlLab[], titles: ArticleTitles): string {
  const rows = labs.flatMap((l) =>
    l.result.claims.map((c, i) => {
      const lab = i ? '' : `<td class="lab" rowspan="${l.result.claims.length}"><a href="#${labAnchor(l.result.lab)}">${esc(l.result.lab)}</a></td>`;
      return (
        `<tr>${lab}<td class="claim"><a href="#${claimAnchor(l.result.lab, c.id)}">${esc(c.id)}</a></td>` +
        `<td title="${esc(articleLabel(c.source, titles))}">${esc(shortSource(c.source))}</td><td>${badge(c.verdict)}</td><td class="observed">${esc(c.observed)}</td></tr>`
      );
    }),
  );
  const body = rows.length
    ? `<table class="verdicts"><thead><tr><th>lab</th><th>claim</th><th>article</th><th>verdict</th><th>what the kernel did</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
    : '<p class="note">No lab in this run graded a claim.</p>';
  return `<section id="verdicts"><h2>Verdicts</h2>${body}</section>`;
}

function sidebar(run: ReportRun): string {
  const labs = run.labs.map((l) => {
    const claims = l.result.claims.map((c) => `<li class="claim"><a href="#${claimAnchor(l.result.lab, c.id)}"><span class="dot v-${VERDICTS.includes(c.verdict) ? c.verdict : 'other'}"></span>${esc(c.id)}</a></li>`);
    return `<li class="lab"><a href="#${labAnchor(l.result.lab)}">${esc(l.result.lab)}</a>${claims.length ? `<ul>${claims.join('')}</ul>` : ''}</li>`;
  });
  return `<nav class="side" aria-label="contents"><div class="brand">tcp-lab report</div><div class="run">${esc(run.id)}</div><ul><li><a href="#run">Run and machine</a></li><li><a href="#verdicts">Verdicts</a></li>${labs.join('\n')}</ul></nav>`;
}

/** The page. Deterministic: the same input gives the same bytes. */
export function renderReportHtml(run: ReportRun, opts: { titles?: ArticleTitles } = {}): string {
  const titles = opts.titles ?? articleTitles();
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>tcp-lab run ${esc(run.id)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    sidebar(run),
    '<main>',
    header(run),
    verdictTable(run.labs, titles),
    ...run.labs.map((l) => labSection(l, titles)),
    `<footer class="note"><p>Written by tcp-lab from the run folder's result.json files; each lab's writeup.md tells the same story in Markdown.</p></footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

async function readJson(file: string): Promise<{ value?: unknown; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${path.basename(file)}` : `${path.basename(file)}: ${(err as Error).message}` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { problem: `${path.basename(file)} is not valid JSON` };
  }
}

/** Read a run folder (run.json, each lab's result.json and diagrams) into what renderReportHtml takes. */
export async function loadReportRun(runDir: string): Promise<ReportRun> {
  const isDir = await stat(runDir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new UserError(`no run folder at ${quote(runDir)}`);
  const problems: string[] = [];
  const marker = await readJson(path.join(runDir, 'run.json'));
  if (marker.problem && marker.problem !== 'no run.json') problems.push(marker.problem);
  const m = marker.value as ReportMarker | undefined;
  const entries: Dirent[] = await readdir(runDir, { withFileTypes: true });
  const order = m?.labs ?? [];
  const names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  names.sort((a, b) => (order.includes(a) ? order.indexOf(a) : order.length) - (order.includes(b) ? order.indexOf(b) : order.length) || byText(a, b));
  const labs: HtmlLab[] = [];
  for (const name of names) {
    const dir = path.join(runDir, name);
    const res = await readJson(path.join(dir, 'result.json'));
    const result = res.value as LabResult | undefined;
    if (!result || typeof result !== 'object' || !Array.isArray(result.claims)) {
      problems.push(`${name}: ${res.problem ?? 'result.json is not a lab result'}`);
      continue;
    }
    const files = (await readdir(dir)).sort();
    const diagrams: HtmlDiagram[] = [];
    for (const d of diagramsIn(files)) diagrams.push({ ...d, svg: await readFile(path.join(dir, d.file), 'utf8') });
    labs.push({ result: { ...result, lab: name }, diagrams, files });
  }
  return { id: path.basename(path.resolve(runDir)), ...(m && typeof m === 'object' ? { marker: m } : {}), labs, ...(problems.length ? { problems } : {}) };
}

/** Write runDir/report.html from what is on disk; returns its path. */
export async function writeReportHtml(runDir: string, opts: { titles?: ArticleTitles } = {}): Promise<string> {
  const file = path.join(runDir, 'report.html');
  await writeFile(file, renderReportHtml(await loadReportRun(runDir), opts));
  return file;
}
