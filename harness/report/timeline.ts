// The state timeline: how many sockets each TCP state held over time (step lines, one panel per host, the
// ladder's state colours), and, when the samples carry kernel timers, a second panel with each timer's
// remaining time as a min–max band. Pure: samples in, SVG text out (same input, same bytes).
import { el, legend, num, sortStates, STATE_COLORS, stateColor, svgDocument, text, titled } from './svg.ts';

export interface TimelineSample {
  /** ms since the lab started */
  atMs: number;
  host: string;
  /** sockets per state (a state left out counts 0) */
  counts: Record<string, number>;
  /** per timer name: the remaining time's range over the sockets that had one */
  timers?: Record<string, { minMs: number; maxMs: number; n: number }>;
  /** what the lab was waiting for (or doing) when it read: reads of different waits are not joined */
  wait?: string;
}

export interface TimelineInput {
  title: string;
  samples: readonly TimelineSample[];
}

/** A step series: one state's count on one host at each of that host's samples, in time order. */
export interface StateSeries {
  host: string;
  state: string;
  points: { atMs: number; count: number; wait?: string }[];
}

const WIDTH = 900;
const LEFT = 64;
const RIGHT = 24;
const PANEL_H = 150;
const PANEL_GAP = 46;
const TIMER_COLORS: Record<string, string> = { timewait: STATE_COLORS['TIME-WAIT'], keepalive: STATE_COLORS.ESTAB, on: '#d62728', persist: '#8c564b' };

/** Whether there is anything to draw (renderTimeline throws on no samples). */
export function hasTimeline(samples: readonly TimelineSample[] | undefined): boolean {
  return (samples?.length ?? 0) > 0;
}

const hostsOf = (samples: readonly TimelineSample[]) => [...new Set(samples.map((s) => s.host))];
const byTime = (samples: readonly TimelineSample[]) => samples.map((s, i) => [s, i] as const).sort(([a, i], [b, j]) => a.atMs - b.atMs || i - j).map(([s]) => s);

/** The step series drawn: per host (first appearance) and per state that was ever non-zero there. */
export function stateSeries(samples: readonly TimelineSample[]): StateSeries[] {
  return hostsOf(samples).flatMap((host) => {
    const mine = byTime(samples.filter((s) => s.host === host));
    const states = sortStates(mine.flatMap((s) => Object.keys(s.counts).filter((k) => s.counts[k] > 0)));
    return states.map((state) => ({ host, state, points: mine.map((s) => ({ atMs: s.atMs, count: s.counts[state] ?? 0, ...(s.wait !== undefined ? { wait: s.wait } : {}) })) }));
  });
}

/** A round step (1, 2 or 5 × 10^k) giving about `target` intervals over `span`; never below `min`. */
function niceStep(span: number, target: number, min: number): number {
  const raw = Math.max(span / target, min);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/** "1.5 s" with as many decimals as the tick step needs. */
function seconds(ms: number, stepMs: number): string {
  const decimals = Math.max(0, Math.min(3, Math.ceil(-Math.log10(stepMs / 1000) - 1e-9)));
  return `${(ms / 1000).toFixed(decimals)} s`;
}

function ticks(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = Math.ceil(from / step - 1e-9) * step; v <= to + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

/** Axes and grid of one panel; returns the SVG and the y mapping. */
function panel(top: number, label: string, yMax: number, yStep: number, yText: (v: number) => string, x: (t: number) => number, xTicks: number[], xStep: number): { svg: string[]; y: (v: number) => number } {
  const y = (v: number) => top + PANEL_H - (v / yMax) * PANEL_H;
  const out = [text(LEFT, top - 8, label, { 'font-weight': 'bold' })];
  out.push(el('rect', { x: LEFT, y: top, width: WIDTH - LEFT - RIGHT, height: PANEL_H, fill: 'none', stroke: '#999999' }));
  for (const v of ticks(0, yMax, yStep)) {
    out.push(el('line', { x1: LEFT, y1: y(v), x2: WIDTH - RIGHT, y2: y(v), stroke: '#e5e5e5' }), text(LEFT - 6, y(v) + 4, yText(v), { 'text-anchor': 'end', 'font-size': 10 }));
  }
  for (const t of xTicks) {
    out.push(el('line', { x1: x(t), y1: top + PANEL_H, x2: x(t), y2: top + PANEL_H + 4, stroke: '#666666' }), text(x(t), top + PANEL_H + 16, seconds(t, xStep), { 'text-anchor': 'middle', 'font-size': 10 }));
  }
  return { svg: out, y };
}

function timerColor(name: string): string {
  return TIMER_COLORS[name] ?? stateColor(`timer:${name}`);
}

/** Draw the timeline; throws an Error when there are no samples or a time is not a number. */
export function renderTimeline(input: TimelineInput): string {
  const samples = input.samples;
  if (!hasTimeline(samples)) throw new Error('timeline: no samples to draw (check hasTimeline(samples) first)');
  const bad = samples.find((s) => !Number.isFinite(s.atMs));
  if (bad) throw new Error(`timeline: sample on host ${bad.host} has no valid time (atMs ${bad.atMs})`);
  const t0 = Math.min(...samples.map((s) => s.atMs));
  const t1 = Math.max(t0 + 1, ...samples.map((s) => s.atMs));
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * (WIDTH - LEFT - RIGHT);
  const xStep = niceStep(t1 - t0, 8, 1);
  const xTicks = ticks(t0, t1, xStep);
  const hosts = hostsOf(samples);
  const series = stateSeries(samples);
  const maxCount = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.count)));
  const cStep = niceStep(maxCount, 5, 1);
  // headroom above the highest count, so its line does not run along the frame
  const yMax = Math.ceil((maxCount * 1.1) / cStep) * cStep;
  const body: string[] = [text(12, 24, input.title, { 'font-size': 15, 'font-weight': 'bold' })];
  body.push(text(12, 44, `${samples.length} ss read(s) on ${hosts.join(', ')}; sockets per state, time in seconds since the lab started.`, { 'font-size': 10.5 }));
  let top = 80;
  for (const host of hosts) {
    const p = panel(top, `sockets per state on ${host}`, yMax, cStep, (v) => String(v), x, xTicks, xStep);
    body.push(...p.svg);
    for (const at of byTime(samples.filter((s) => s.host === host))) body.push(el('line', { x1: x(at.atMs), y1: top + PANEL_H - 3, x2: x(at.atMs), y2: top + PANEL_H, stroke: '#333333' }));
    for (const s of series.filter((r) => r.host === host)) {
      // a step holds its count only until the next read of the same wait; between two waits nobody sampled
      const d = s.points.map((pt, i) => (i === 0 || pt.wait !== s.points[i - 1].wait ? `M${num(x(pt.atMs))} ${num(p.y(pt.count))}` : `H${num(x(pt.atMs))}V${num(p.y(pt.count))}`)).join('');
      const tip = `${s.state} on ${host}: ${s.points.map((pt) => `${pt.count} at ${(pt.atMs / 1000).toFixed(3)} s`).join(', ')}`;
      body.push(titled('path', { class: 'state-series', d: s.points.length === 1 ? `${d}h4` : d, fill: 'none', stroke: stateColor(s.state), 'stroke-width': 2 }, tip));
    }
    top += PANEL_H + PANEL_GAP;
  }
  const timed = samples.filter((s) => s.timers && Object.keys(s.timers).length);
  const timerNames: string[] = [...new Set(timed.flatMap((s) => Object.keys(s.timers!)))].sort();
  if (timed.length) {
    const maxMs = Math.max(1, ...timed.flatMap((s) => Object.values(s.timers!).map((t) => t.maxMs)));
    const tStep = niceStep(maxMs, 5, 1);
    const p = panel(top, 'timer remaining (min–max over the sockets that had it)', Math.ceil(maxMs / tStep) * tStep, tStep, (v) => seconds(v, tStep), x, xTicks, xStep);
    body.push(...p.svg);
    for (const host of hosts) {
      for (const name of timerNames) {
        const pts = byTime(timed.filter((s) => s.host === host && s.timers![name]));
        if (!pts.length) continue;
        const color = timerColor(name);
        const upper = pts.map((s) => [x(s.atMs), p.y(s.timers![name].maxMs)]);
        const lower = pts.map((s) => [x(s.atMs), p.y(s.timers![name].minMs)]).reverse();
        const poly = [...upper, ...lower].map(([a, b]) => `${num(a)},${num(b)}`).join(' ');
        const tip = `${name} timer on ${host}: ${pts.map((s) => { const t = s.timers![name]; return `${(t.minMs / 1000).toFixed(1)}–${(t.maxMs / 1000).toFixed(1)} s (${t.n}) at ${(s.atMs / 1000).toFixed(3)} s`; }).join(', ')}`;
        const line = (ys: number[][]) => el('polyline', { points: ys.map(([a, b]) => `${num(a)},${num(b)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 });
        body.push(titled('g', { class: 'timer-series' }, tip, [el('polygon', { points: poly, fill: color, 'fill-opacity': 0.25, stroke: 'none' }), line(upper), line([...lower].reverse())].join('')));
        if (hosts.length > 1) body.push(text(upper[upper.length - 1][0] - 4, upper[upper.length - 1][1] - 4, host, { 'text-anchor': 'end', 'font-size': 9, fill: color }));
      }
    }
    top += PANEL_H + PANEL_GAP;
  }
  const states = sortStates(series.map((s) => s.state));
  const swatch = (color: string, opacity?: number) => (sx: number, sy: number) => el('rect', { x: sx, y: sy - 5, width: 26, height: 10, fill: color, 'fill-opacity': opacity });
  const leg = legend(12, top - 20, WIDTH - 24, [
    ...states.map((s) => ({ label: s, swatch: swatch(stateColor(s)) })),
    ...timerNames.map((n) => ({ label: `timer ${n}`, swatch: swatch(timerColor(n), 0.4) })),
  ]);
  body.push(...leg.svg);
  const desc = `Sockets per TCP state over ${((t1 - t0) / 1000).toFixed(1)} s on ${hosts.join(', ')} (states: ${states.join(', ') || 'none'})${timerNames.length ? `; timers: ${timerNames.join(', ')}` : ''}.`;
  return svgDocument({ width: WIDTH, height: top - 20 + leg.height + 8, title: input.title, desc, body });
}
