// The packet ladder: one vertical lane per endpoint (address:port), one sloped arrow per captured TCP segment
// (time runs downward), the socket states ss showed as bands along the lanes, retransmissions dashed and
// segments a drop rule matched ending in an X. Pure: decoded segments in, SVG text out (same input, same bytes).
import type { SnapshotRecord } from '../evidence/records.ts';
import { formatSegment, type Segment } from '../evidence/packets.ts';
import { layout, SLOPE, type Band, type LadderFault, type Layout, type Row } from './ladder-layout.ts';
import { el, GONE, legend, num, sortStates, stateColor, svgDocument, text, textWidth, titled } from './svg.ts';

export type { LadderFault } from './ladder-layout.ts';
export { faultMatches } from './ladder-layout.ts';

export interface LadderInput {
  title: string;
  /** decoded segments (decodeTcp), in capture order */
  segments: Segment[];
  /** epoch µs the lab started (snapshot and fault times are ms relative to it) */
  labStartUs: number;
  snapshots?: SnapshotRecord[];
  faults?: LadderFault[];
  /** lanes at most (default 6) */
  maxEndpoints?: number;
  /** arrows at most (default 120) */
  maxSegments?: number;
}

export interface Ladder {
  svg: string;
  /** lanes drawn */
  endpoints: number;
  /** arrows drawn */
  segments: number;
  /** left out beyond the limits: whole connections, and segments (of those and of cut-short ones) */
  omitted: { connections: number; segments: number };
}

const GUTTER = 100;
const LANE_GAP = 290;
const TRACK_W = 7;
const TRACK_STEP = 9;
const HEADER = 118;
const COLORS = { syn: '#2ca02c', fin: '#1f77b4', rst: '#d62728', data: '#000000', ack: '#7f7f7f', note: '#9467bd', drop: '#d62728' };

function segColor(s: Segment): string {
  if (s.flags.includes('R')) return COLORS.rst;
  if (s.flags.includes('S')) return COLORS.syn;
  if (s.flags.includes('F')) return COLORS.fin;
  return s.len > 0 ? COLORS.data : COLORS.ack;
}

/** "[P.] seq 1:6 ack 1 len 5" with relative numbers. */
function arrowLabel(r: Row): string {
  const { seg, relSeq, relAck } = r.fs;
  return `[${seg.flags}] seq ${relSeq}${seg.len ? `:${relSeq + seg.len}` : ''}${seg.flags.includes('.') ? ` ack ${relAck}` : ''} len ${seg.len}`;
}

function arrowHead(x: number, y: number, dx: number, dy: number, color: string): string {
  const l = Math.hypot(dx, dy) || 1;
  const [ux, uy] = [dx / l, dy / l];
  const [bx, by] = [x - ux * 9, y - uy * 9];
  const pts = [[x, y], [bx - uy * 4, by + ux * 4], [bx + uy * 4, by - ux * 4]].map(([a, b]) => `${num(a)},${num(b)}`).join(' ');
  return el('polygon', { points: pts, fill: color });
}

function cross(x: number, y: number, color: string): string {
  return el('path', { d: `M${num(x - 5)} ${num(y - 5)}L${num(x + 5)} ${num(y + 5)}M${num(x - 5)} ${num(y + 5)}L${num(x + 5)} ${num(y - 5)}`, stroke: color, 'stroke-width': 2.5, fill: 'none' });
}

function drawRow(r: Row, laneX: (i: number) => number, labStartUs: number): string {
  const seg = r.fs.seg;
  const color = segColor(seg);
  const x1 = laneX(r.from);
  const x2 = r.to === r.from ? x1 + 40 : laneX(r.to);
  const [y1, y2] = [r.y, r.y + SLOPE];
  const end = r.droppedBy ? 0.72 : 1;
  const [xe, ye] = [x1 + (x2 - x1) * end, y1 + (y2 - y1) * end];
  const dir = x2 >= x1 ? 1 : -1;
  const labelX = Math.abs(x2 - x1) >= LANE_GAP ? x1 + dir * (LANE_GAP / 2) : (x1 + x2) / 2;
  const { marks, notes } = r;
  const cls = ['segment', r.fs.retransmission ? 'retransmission' : '', r.droppedBy ? 'dropped' : ''].filter(Boolean).join(' ');
  const tip = `${((seg.tUs - labStartUs) / 1000).toFixed(3)} ms, connection ${r.conn.id}: ${formatSegment(seg, { seq: r.fs.relSeq, ack: r.fs.relAck })}${marks.length ? ` (${marks.join(', ')})` : ''}`;
  const inner = [
    el('line', { x1, y1, x2: xe, y2: ye, stroke: color, 'stroke-width': 1.6, 'stroke-dasharray': r.fs.retransmission ? '7 4' : undefined }),
    r.droppedBy ? cross(xe, ye, COLORS.drop) : arrowHead(x2, y2, x2 - x1, y2 - y1, color),
    text(labelX, y1 - 4, arrowLabel(r), { 'text-anchor': 'middle', 'font-size': 10.5, fill: color === COLORS.ack ? '#555555' : color }),
    notes.length ? text(labelX, y2 + 11, notes.join(', '), { 'text-anchor': 'middle', 'font-size': 9.5, fill: r.droppedBy ? COLORS.drop : COLORS.note, 'font-style': 'italic' }) : '',
    text(8, y1 + 4, `${((seg.tUs - labStartUs) / 1000).toFixed(1)} ms`, { 'font-size': 10, fill: '#444444' }),
  ];
  return titled('g', { class: cls }, tip, inner.join(''));
}

function drawBand(b: Band, L: Layout, laneX: (i: number) => number): string {
  const lane = L.lanes[b.lane];
  const groupW = lane.tracks.length * TRACK_STEP - (TRACK_STEP - TRACK_W);
  const x = laneX(b.lane) - groupW / 2 + b.track * TRACK_STEP;
  const peer = lane.tracks[b.track];
  const who = peer === '*' ? `${lane.name} (listening socket)` : `${lane.name} ↔ ${peer}`;
  const gone = b.state === GONE;
  const rect = el('rect', {
    x, y: b.y0, width: TRACK_W, height: b.y1 - b.y0, fill: stateColor(b.state), 'fill-opacity': gone ? undefined : 0.85,
    stroke: gone ? '#999999' : 'none', 'stroke-dasharray': gone ? '3 2' : undefined,
  });
  const many = lane.tracks.filter((t) => t !== '*').length > 1;
  const label = `${many && peer !== '*' ? `${peer.slice(peer.lastIndexOf(':') + 1)}: ` : ''}${b.state}`;
  const [lx, ly] = [laneX(b.lane) + groupW / 2 + 4, b.y0 + 9 + b.track * 10];
  const lbl = el('rect', { x: lx - 1, y: ly - 8, width: textWidth(label, 9) + 2, height: 10, fill: '#ffffff', 'fill-opacity': 0.8 }) + text(lx, ly, label, { 'font-size': 9, fill: '#333333' });
  return titled('g', { class: 'band' }, `${who}: ${b.state} from ${num(b.atMs)} ms (snapshot "${b.snapshot}")`, rect + lbl);
}

/** Draw the ladder of a capture. Throws on limits that are not positive integers. */
export function renderLadder(input: LadderInput): Ladder {
  const maxEndpoints = input.maxEndpoints ?? 6;
  const maxSegments = input.maxSegments ?? 120;
  if (!Number.isInteger(maxEndpoints) || maxEndpoints < 2) throw new Error(`ladder: maxEndpoints must be an integer >= 2, got ${maxEndpoints}`);
  if (!Number.isInteger(maxSegments) || maxSegments < 1) throw new Error(`ladder: maxSegments must be an integer >= 1, got ${maxSegments}`);
  const L = layout({ ...input, maxEndpoints, maxSegments }, HEADER + 14);
  const laneX = (i: number) => GUTTER + 60 + i * LANE_GAP;
  const width = Math.max(720, laneX(Math.max(0, L.lanes.length - 1)) + 170);
  const body: string[] = [];
  const drawnConns = new Set(L.rows.map((r) => r.conn.id)).size;
  body.push(text(12, 24, input.title, { 'font-size': 15, 'font-weight': 'bold' }));
  body.push(text(12, 44, `${L.rows.length} segment(s) of ${drawnConns} connection(s), ${L.lanes.length} endpoint(s). Time runs down, in ms since the lab started.`, { 'font-size': 10.5 }));
  body.push(text(12, 58, 'Arrows slope only to be seen; gaps over 1 s are cut; seq/ack are relative to each side\'s ISN.', { 'font-size': 10.5 }));
  if (L.omitted.connections || L.omitted.segments) {
    body.push(text(12, 74, `Not drawn (limits ${maxEndpoints} endpoints, ${maxSegments} segments): ${L.omitted.connections} more connection(s), ${L.omitted.segments} segment(s) in all; see the pcap.`, { 'font-size': 10.5, fill: COLORS.drop }));
  }
  if (!L.rows.length) body.push(text(12, HEADER, 'No TCP segments in the capture.', { 'font-size': 12 }));
  L.lanes.forEach((lane, i) => {
    const role = lane.listener ? 'listener' : L.rows.some((r) => r.conn.initiator.name === lane.name) ? 'initiator' : 'responder';
    body.push(text(laneX(i), HEADER - 22, lane.name, { 'text-anchor': 'middle', 'font-weight': 'bold', 'font-size': Math.min(12, (LANE_GAP - 20) / Math.max(1, textWidth(lane.name, 1))) }));
    body.push(text(laneX(i), HEADER - 8, role, { 'text-anchor': 'middle', 'font-size': 10, fill: '#555555' }));
    body.push(el('line', { x1: laneX(i), y1: HEADER, x2: laneX(i), y2: L.bottom, stroke: '#444444', 'stroke-width': 1 }));
  });
  for (const br of L.breaks) {
    body.push(titled('g', { class: 'break' }, `${(br.gapMs / 1000).toFixed(1)} s with nothing to draw, not to scale`, [
      el('rect', { x: 4, y: br.y0, width: width - 8, height: br.y1 - br.y0, fill: '#f0f0f0', stroke: '#bbbbbb', 'stroke-dasharray': '4 3' }),
      text(width / 2, (br.y0 + br.y1) / 2 + 4, `… ${(br.gapMs / 1000).toFixed(1)} s …`, { 'text-anchor': 'middle', 'font-style': 'italic', fill: '#555555' }),
    ].join('')));
  }
  // bands over the cuts: a state holds through the idle time
  for (const b of L.bands) body.push(drawBand(b, L, laneX));
  for (const m of L.marks) {
    body.push(titled('g', { class: 'fault-mark' }, `${m.label} at ${m.tMs.toFixed(1)} ms${m.rule ? `: ${m.rule}` : ''}`, [
      el('line', { x1: GUTTER - 6, y1: m.y, x2: width - 8, y2: m.y, stroke: COLORS.drop, 'stroke-width': 0.8, 'stroke-dasharray': '2 3' }),
      text(8, m.y + 4, m.label, { 'font-size': 9.5, fill: COLORS.drop }),
    ].join('')));
  }
  for (const r of L.rows) body.push(drawRow(r, laneX, input.labStartUs));
  const line = (color: string, dash?: string) => (x: number, y: number) => el('line', { x1: x, y1: y, x2: x + 26, y2: y, stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash });
  const entries = [
    { label: 'SYN', swatch: line(COLORS.syn) }, { label: 'FIN', swatch: line(COLORS.fin) }, { label: 'RST', swatch: line(COLORS.rst) },
    { label: 'data', swatch: line(COLORS.data) }, { label: 'ACK only', swatch: line(COLORS.ack) },
    { label: 'retransmission', swatch: line('#000000', '7 4') },
    { label: 'dropped by a fault rule', swatch: (x: number, y: number) => el('line', { x1: x, y1: y, x2: x + 18, y2: y, stroke: '#000000', 'stroke-width': 2 }) + cross(x + 20, y, COLORS.drop) },
    { label: 'time cut (not to scale)', swatch: (x: number, y: number) => el('rect', { x, y: y - 5, width: 26, height: 10, fill: '#f0f0f0', stroke: '#bbbbbb', 'stroke-dasharray': '4 3' }) },
    ...sortStates(L.bands.map((b) => b.state).filter((s) => s !== GONE)).map((s) => ({ label: `state ${s}`, swatch: (x: number, y: number) => el('rect', { x: x + 9, y: y - 6, width: TRACK_W, height: 12, fill: stateColor(s), 'fill-opacity': 0.85 }) })),
    ...(L.bands.some((b) => b.state === GONE) ? [{ label: 'socket gone', swatch: (x: number, y: number) => el('rect', { x: x + 9, y: y - 6, width: TRACK_W, height: 12, fill: '#ffffff', stroke: '#999999', 'stroke-dasharray': '3 2' }) }] : []),
  ];
  const leg = legend(12, L.bottom + 16, width - 24, entries);
  body.push(...leg.svg);
  const desc = `Packet ladder of ${L.rows.length} TCP segment(s) between ${L.lanes.map((l) => l.name).join(', ') || 'no endpoints'}${L.omitted.connections || L.omitted.segments ? `; not drawn: ${L.omitted.connections} connection(s), ${L.omitted.segments} segment(s)` : ''}.`;
  const svg = svgDocument({ width, height: L.bottom + 16 + leg.height + 8, title: input.title, desc, body });
  return { svg, endpoints: L.lanes.length, segments: L.rows.length, omitted: L.omitted };
}
