// Shared pieces of the hand-written SVG diagrams (ladder.ts, timeline.ts): escaping, fixed number format,
// the document frame, and one colour per TCP state so a state looks the same in every diagram.
// Plain SVG 1.1 with presentation attributes only (no CSS, no SVG 2 features), so browsers and Inkscape agree.

/** Escape text for XML content and attribute values; drops characters XML 1.0 cannot carry at all. */
export function esc(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate with at most one decimal, fixed so the same input gives the same bytes ("12", "12.5"). */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`svg: coordinate is not a finite number: ${x}`);
  const s = (Math.round(x * 10) / 10).toFixed(1);
  const t = s.endsWith('.0') ? s.slice(0, -2) : s;
  return t === '-0' ? '0' : t;
}

type AttrValue = string | number | undefined;

/** ` a="1" b="x"`: attributes in the order given; numbers through num(), undefined ones left out. */
export function attrs(a: Record<string, AttrValue>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : esc(v as string)}"`)
    .join('');
}

/** An element with no children. */
export function el(name: string, a: Record<string, AttrValue>): string {
  return `<${name}${attrs(a)}/>`;
}

export const FONT = 'DejaVu Sans Mono, Menlo, Consolas, monospace';
/** Rough width of monospace text (the diagrams size boxes by it). */
export function textWidth(s: string, size: number): number {
  return [...s].length * size * 0.6;
}

/** A <text> element; the content is escaped. */
export function text(x: number, y: number, content: string, a: Record<string, AttrValue> = {}): string {
  return `<text${attrs({ x, y, 'font-family': FONT, 'font-size': 11, ...a })}>${esc(content)}</text>`;
}

/** An element with a <title> child (a tooltip in browsers, an object title in Inkscape). */
export function titled(name: string, a: Record<string, AttrValue>, title: string, inner = ''): string {
  return `<${name}${attrs(a)}><title>${esc(title)}</title>${inner}</${name}>`;
}

/** The whole document: SVG 1.1 root with xmlns, size and viewBox, then <title> and <desc>. */
export function svgDocument(o: { width: number; height: number; title: string; desc: string; body: readonly string[] }): string {
  const w = Math.ceil(o.width);
  const h = Math.ceil(o.height);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`,
    `<title>${esc(o.title)}</title>`,
    `<desc>${esc(o.desc)}</desc>`,
    el('rect', { x: 0, y: 0, width: w, height: h, fill: '#ffffff' }),
    ...o.body,
    '</svg>',
    '',
  ].join('\n');
}

/** One colour per state (ss's names); the ladder's bands and the timeline's lines use the same ones. */
export const STATE_COLORS: Readonly<Record<string, string>> = {
  LISTEN: '#7f7f7f',
  'SYN-SENT': '#bcbd22',
  'SYN-RECV': '#dbb40c',
  ESTAB: '#2ca02c',
  'FIN-WAIT-1': '#6baed6',
  'FIN-WAIT-2': '#1f77b4',
  'CLOSE-WAIT': '#c49ade',
  'LAST-ACK': '#9467bd',
  CLOSING: '#17becf',
  'TIME-WAIT': '#ff7f0e',
  UNCONN: '#8c564b',
};
/** Order in which states are listed in legends (the order ss's state table has, roughly a connection's life). */
export const STATE_ORDER = ['LISTEN', 'SYN-SENT', 'SYN-RECV', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'LAST-ACK', 'CLOSING', 'TIME-WAIT', 'UNCONN'];
export const GONE = '(gone)';
const OTHER_COLORS = ['#e377c2', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173'];

/** The colour of a state; unknown names get a fixed colour from a spare palette (by name, so stable). */
export function stateColor(state: string): string {
  if (state === GONE) return '#ffffff';
  const c = STATE_COLORS[state];
  if (c) return c;
  let h = 0;
  for (const ch of state) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return OTHER_COLORS[h % OTHER_COLORS.length];
}

/** Sort state names: known ones in STATE_ORDER, then others alphabetically. */
export function sortStates(states: Iterable<string>): string[] {
  const rank = (s: string) => (STATE_ORDER.includes(s) ? STATE_ORDER.indexOf(s) : STATE_ORDER.length);
  return [...new Set(states)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Legend entries laid out in rows of fixed-width cells; each entry draws its own swatch at (x, y). */
export function legend(x: number, y: number, width: number, entries: readonly { label: string; swatch: (x: number, y: number) => string }[]): { svg: string[]; height: number } {
  const cell = 190;
  const perRow = Math.max(1, Math.floor(width / cell));
  const out = [text(x, y + 12, 'Legend', { 'font-weight': 'bold' })];
  entries.forEach((e, i) => {
    const cx = x + (i % perRow) * cell;
    const cy = y + 22 + Math.floor(i / perRow) * 18;
    out.push(e.swatch(cx, cy), text(cx + 34, cy + 4, e.label, { 'font-size': 10 }));
  });
  return { svg: out, height: 30 + Math.ceil(entries.length / perRow) * 18 };
}
