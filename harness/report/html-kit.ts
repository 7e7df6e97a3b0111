// Small pieces of report.html: escaping, anchors, verdict badges, tables, the defensive clean-up of inlined
// SVG, and the page's style sheet (screen and print). Everything here is pure and deterministic.

/** Escape text for HTML content and attribute values. */
export function esc(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** An anchor-safe id part: "close-wait-leak", "c1" ("Foo Bar!" → "foo-bar"). */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

export const labAnchor = (lab: string) => `lab-${slug(lab)}`;
export const claimAnchor = (lab: string, claim: string) => `claim-${slug(lab)}--${slug(claim)}`;

/** A relative link to a file in a lab folder, each path segment %-encoded. */
export function fileHref(lab: string, file: string): string {
  return [lab, ...file.split('/')].map(encodeURIComponent).join('/');
}

const VERDICTS = new Set(['confirmed', 'refuted', 'partly', 'inconclusive']);

/** A coloured verdict label; an unknown verdict gets the neutral colour. */
export function badge(verdict: string): string {
  return `<span class="badge v-${VERDICTS.has(verdict) ? verdict : 'other'}">${esc(verdict)}</span>`;
}

/**
 * A table of escaped text. `html` may return trusted HTML for a cell (escaped by the caller); `tdClass` a
 * class for a cell.
 */
export function table(
  columns: readonly string[],
  rows: readonly (readonly string[])[],
  o: { cls?: string; caption?: string; html?: (col: number, value: string) => string | undefined; tdClass?: (col: number, value: string) => string | undefined } = {},
): string {
  const td = (c: number, v: string) => {
    const cls = o.tdClass?.(c, v);
    return `<td${cls ? ` class="${cls}"` : ''}>${o.html?.(c, v) ?? esc(v)}</td>`;
  };
  return [
    `<table${o.cls ? ` class="${o.cls}"` : ''}>`,
    o.caption ? `<caption>${esc(o.caption)}</caption>` : '',
    `<thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((v, i) => td(i, v)).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('');
}

/**
 * An SVG document made fit to inline: only the <svg> element is kept (no XML declaration, doctype or
 * comments); scripts, style sheets, foreign objects, event-handler attributes and references to anything
 * outside the document are removed (the report loads nothing), and ids are prefixed so two diagrams' ids
 * cannot collide. Our own renderer writes none of what is removed: this is defence, not a filter it relies on.
 */
export function inlineSvg(svg: string, idPrefix: string): string {
  const start = svg.search(/<svg[\s>]/i);
  const end = svg.toLowerCase().lastIndexOf('</svg>');
  if (start < 0 || end < start) return '';
  const cleanTag = (tag: string) =>
    tag
      .replace(/\s(?:[a-z-]+:)?on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '')
      .replace(/\s(?:xlink:)?href\s*=\s*("(?!#)[^"]*"|'(?!#)[^']*'|[^\s>"']+)/gi, '')
      .replace(/url\(\s*(?!['"]?#)[^)]*\)/gi, 'none')
      .replace(/(\s)id\s*=\s*"([^"]*)"/g, `$1id="${idPrefix}$2"`)
      .replace(/url\(\s*(['"]?)#/g, `url($1#${idPrefix}`)
      .replace(/(\s(?:xlink:)?href\s*=\s*")#/g, `$1#${idPrefix}`);
  return svg
    .slice(start, end + '</svg>'.length)
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|foreignObject|iframe|object|embed)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<\/?(script|style|foreignObject|iframe|object|embed)\b[^>]*>/gi, '')
    .replace(/<[a-zA-Z][^>]*>/g, cleanTag);
}

export const CSS = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --soft:#f6f8fa; --accent:#0969da; --side:17rem; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
code { background: var(--soft); padding: 0 0.3em; border-radius: 4px; }
nav.side { position: fixed; top: 0; left: 0; bottom: 0; width: var(--side); overflow-y: auto; padding: 1.2rem 1rem 2rem; background: var(--soft); border-right: 1px solid var(--line); font-size: 13.5px; }
nav.side .brand { font-weight: 700; font-size: 15px; margin-bottom: 0.2rem; }
nav.side .run { color: var(--muted); font-family: "DejaVu Sans Mono", monospace; font-size: 12px; margin-bottom: 1rem; }
nav.side ul { list-style: none; margin: 0; padding: 0; }
nav.side li { margin: 0.15rem 0; }
nav.side li.lab { margin-top: 0.8rem; font-weight: 600; }
nav.side li.lab ul { font-weight: 400; margin-top: 0.15rem; }
nav.side li.claim a { display: flex; align-items: center; gap: 0.45rem; color: var(--fg); }
nav.side .dot { flex: none; width: 0.6rem; height: 0.6rem; border-radius: 50%; }
main { margin-left: var(--side); padding: 2rem 3rem 4rem; max-width: calc(var(--side) + 62rem); }
h1 { font-size: 1.75rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.35rem; margin: 0 0 0.4rem; padding-top: 0.4rem; }
h3 { font-size: 1.05rem; margin: 1.8rem 0 0.6rem; padding-bottom: 0.25rem; border-bottom: 1px solid var(--line); }
h4 { font-size: 1rem; margin: 1.2rem 0 0.4rem; display: flex; align-items: center; gap: 0.6rem; }
.sub { color: var(--muted); margin: 0 0 1rem; }
section.lab { border-top: 3px solid var(--fg); margin-top: 3rem; padding-top: 1rem; }
#verdicts { margin-top: 1.6rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem; margin: 1rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 13.5px; width: auto; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
table.verdicts { width: 100%; }
table.verdicts td.lab, table.verdicts td.claim { white-space: nowrap; }
table.verdicts td.observed { color: var(--muted); font-size: 13px; }
td.ok { color: #116329; font-weight: 600; }
td.bad { color: #a40e26; font-weight: 600; }
.badge { display: inline-block; padding: 0.05rem 0.55rem; border-radius: 1rem; font-size: 12px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.v-confirmed { background: #dafbe1; color: #116329; border-color: #4ac26b; }
.v-refuted { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.v-partly { background: #fff8c5; color: #7d4e00; border-color: #d4a72c; }
.v-inconclusive, .v-other { background: #eef1f4; color: #59636e; border-color: #afb8c1; }
.dot.v-confirmed { background: #1a7f37; } .dot.v-refuted { background: #cf222e; } .dot.v-partly { background: #bf8700; } .dot.v-inconclusive, .dot.v-other { background: #8c959f; }
ul.claims { padding-left: 1.1rem; }
ul.claims li { margin: 0.4rem 0; }
.article { color: var(--muted); }
.files a { margin-right: 0.9rem; }
ol.steps { padding-left: 1.4rem; }
ol.steps > li { margin: 0.7rem 0; }
.step-title { font-weight: 600; }
.t { color: var(--muted); font-weight: 400; font-size: 12.5px; margin-left: 0.4rem; }
ul.events { margin: 0.2rem 0; padding-left: 1.1rem; font-size: 13.5px; }
.kind { display: inline-block; min-width: 4.5rem; color: var(--muted); font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
.snap { margin: 0.5rem 0; }
.snap-head { font-size: 13px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 0.7rem; overflow-x: auto; margin: 0.3rem 0; line-height: 1.4; }
.more { font-size: 12.5px; color: var(--muted); margin: 0.1rem 0 0; }
figure { margin: 1rem 0; padding: 0.6rem; border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figure.wide svg { max-width: none; margin: 0; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 0.4rem; }
article.claim { border: 1px solid var(--line); border-left: 5px solid #afb8c1; border-radius: 6px; padding: 0.2rem 1rem 0.6rem; margin: 1rem 0; }
article.claim.c-confirmed { border-left-color: #1a7f37; } article.claim.c-refuted { border-left-color: #cf222e; } article.claim.c-partly { border-left-color: #bf8700; }
article.claim:target { box-shadow: 0 0 0 3px #54aeff66; }
.statement { font-style: italic; }
.means { background: var(--soft); border-radius: 6px; padding: 0.5rem 0.8rem; }
.note { color: var(--muted); font-size: 13.5px; }
details summary { cursor: pointer; color: var(--accent); }
@media (max-width: 900px) { nav.side { display: none; } main { margin-left: 0; padding: 1rem; } }
@media print {
  nav.side { display: none; }
  main { margin: 0; padding: 0; max-width: none; }
  body { font-size: 11pt; }
  a { color: inherit; }
  section.lab { break-before: page; border-top: none; }
  figure, article.claim, table, pre, .snap { break-inside: avoid; }
  figure.wide svg { max-width: 100%; }
  h2, h3, h4 { break-after: avoid; }
  details { display: block; }
  .badge, .dot, td.ok, td.bad, article.claim { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`;
