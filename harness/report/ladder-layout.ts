// The ladder diagram's layout as plain data (ladder.ts draws it): which connections fit the limits, one lane
// per endpoint, a compressed time axis (rows for segments, breaks for long idle gaps), state bands from ss
// snapshots, and which segments a drop rule active at that moment matched.
import type { SnapshotRecord } from '../evidence/records.ts';
import { isCompact } from '../evidence/compact.ts';
import { connections, endpointName, type Connection, type FlowSegment, type Segment } from '../evidence/packets.ts';
import { parseEndpoint } from '../evidence/ss.ts';
import { GONE } from './svg.ts';

/** A fault event's data (result.events, kind 'fault'): an install carries the rule, a lift only the id (and count). */
export interface LadderFault {
  atMs: number;
  op: 'install' | 'lift' | string;
  id: string;
  kind?: string;
  toPort?: number;
  fromPort?: number;
  action?: 'drop' | 'count';
  /** on a lift: how many segments the rule matched (caps how many are drawn as dropped) */
  packets?: number;
}

export const ROW = 34;
export const SLOPE = 9;
export const BREAK_H = 40;
/** idle gaps longer than this become a break, not drawn to scale */
export const BREAK_MS = 1000;
const PX_PER_MS = 0.4;
const MAX_GAP_PX = 120;

export interface Row {
  fs: FlowSegment; conn: Connection; tMs: number; y: number; from: number; to: number; droppedBy?: string;
  /** what is special about it: retransmission, dropped by fault <id>, duplicate ACK */
  marks: string[];
  /** the line under the arrow: "connection N" on a connection's first segment when several are drawn, then the marks */
  notes: string[];
}
export interface Mark { tMs: number; y: number; label: string; rule?: string; }
export interface Break { y0: number; y1: number; gapMs: number; }
export interface Band { lane: number; track: number; state: string; y0: number; y1: number; atMs: number; snapshot: string; }
export interface Lane { name: string; listener: boolean; tracks: string[]; }
export interface Layout {
  lanes: Lane[]; rows: Row[]; marks: Mark[]; breaks: Break[]; bands: Band[];
  top: number; bottom: number; omitted: { connections: number; segments: number }; totalConnections: number;
}

/** "127.0.0.1:9000" for anything ss prints for it ("[::ffff:127.0.0.1]:9000" included); undefined for "*:*". */
function ssName(text: string): { name: string; host: string; port: number } | undefined {
  const e = parseEndpoint(text);
  if (e.port === '*') return undefined;
  const host = /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(e.host) ? e.host.slice(7) : e.host;
  return { name: endpointName(host, e.port), host, port: e.port };
}
const WILDCARD = new Set(['*', '0.0.0.0', '::']);

/** The connections drawn: the first ones that fit maxEndpoints lanes and maxSegments arrows. */
function choose(all: Connection[], maxEndpoints: number, maxSegments: number): { drawn: Connection[]; segs: Set<FlowSegment> } {
  const names = new Set<string>();
  const drawn: Connection[] = [];
  const segs = new Set<FlowSegment>();
  for (const c of all) {
    const fresh = [c.initiator.name, c.responder.name].filter((n) => !names.has(n));
    if (names.size + fresh.length > maxEndpoints || segs.size >= maxSegments) break;
    fresh.forEach((n) => names.add(n));
    drawn.push(c);
    for (const fs of c.segments.slice(0, maxSegments - segs.size)) segs.add(fs);
  }
  return { drawn, segs };
}

/** Lanes: initiators only, then endpoints both opening and accepting, then listeners; first appearance within each. */
function lanesOf(drawn: Connection[]): Lane[] {
  const seen = new Map<string, { opens: boolean; accepts: boolean; order: number; tracks: string[] }>();
  const note = (name: string, peer: string, opens: boolean) => {
    const l = seen.get(name) ?? { opens: false, accepts: false, order: seen.size, tracks: [] };
    if (opens) l.opens = true; else l.accepts = true;
    if (!l.tracks.includes(peer)) l.tracks.push(peer);
    seen.set(name, l);
  };
  for (const c of drawn) {
    note(c.initiator.name, c.responder.name, true);
    note(c.responder.name, c.initiator.name, false);
  }
  const rank = (l: { opens: boolean; accepts: boolean }) => (l.opens && !l.accepts ? 0 : l.opens ? 1 : 2);
  return [...seen].sort(([, a], [, b]) => rank(a) - rank(b) || a.order - b.order)
    .map(([name, l]) => {
      // a listener (it answered a captured SYN) gets a track for its LISTEN socket first
      const listener = drawn.some((c) => c.responder.name === name && c.sawSyn);
      return { name, listener, tracks: listener ? ['*', ...l.tracks] : l.tracks };
    });
}

/** Whether a segment is one the fault rule's nft match (harness/kernel/faults.ts FLAG_MATCH) selects. */
export function faultMatches(f: LadderFault, seg: Segment): boolean {
  if (f.toPort !== undefined && seg.dport !== f.toPort) return false;
  if (f.fromPort !== undefined && seg.sport !== f.fromPort) return false;
  const has = (c: string) => seg.flags.includes(c);
  const [S, A, F, R] = [has('S'), has('.'), has('F'), has('R')];
  switch (f.kind) {
    case 'syn': return S && !A && !F && !R;
    case 'syn-ack': return S && A;
    case 'ack': case 'handshake-ack': case 'fin-ack': return A && !S && !F && !R;
    case 'fin': return F;
    case 'rst': return R;
    case 'all': return true;
    default: return false;
  }
}

/** "drop fin segments to :9000" (the words of faults.ts describeRule). */
function describe(f: LadderFault): string {
  const where = [f.fromPort !== undefined ? `from :${f.fromPort}` : '', f.toPort !== undefined ? `to :${f.toPort}` : ''].filter(Boolean).join(' ');
  return `${f.action ?? 'drop'} ${f.kind === 'all' ? 'every segment' : `${f.kind ?? '?'} segments`}${where ? ` ${where}` : ''}`;
}

/** Per drawn segment, the id of the drop rule that matched it while active (at most `packets` per rule). */
function dropped(rows: Row[], faults: readonly LadderFault[]): void {
  for (const ins of faults) {
    if (ins.op !== 'install' || (ins.action ?? 'drop') !== 'drop') continue;
    const lift = faults.find((f) => f.op === 'lift' && f.id === ins.id && f.atMs >= ins.atMs);
    let left = lift?.packets ?? Infinity;
    for (const r of rows) {
      if (left <= 0 || r.droppedBy || r.tMs < ins.atMs || (lift && r.tMs >= lift.atMs) || !faultMatches(ins, r.fs.seg)) continue;
      r.droppedBy = ins.id;
      left--;
    }
  }
}

/** State bands of one lane's tracks from the snapshots of the host that holds its sockets. */
function bandsOf(lane: Lane, li: number, snapshots: readonly SnapshotRecord[], yOf: Map<SnapshotRecord, number>, bottom: number): Band[] {
  const me = parseEndpoint(lane.name);
  const find = (s: SnapshotRecord, peer: string) => s.sockets.find((k) => {
    const l = ssName(k.local);
    if (peer === '*') return k.state === 'LISTEN' && l !== undefined && l.port === me.port && (l.name === lane.name || WILDCARD.has(l.host));
    return l?.name === lane.name && ssName(k.peer)?.name === peer && k.state !== 'LISTEN';
  });
  // the lane's sockets live on the host whose snapshots show them most often (first such host on a tie)
  const seenOn = new Map<string, number>();
  for (const s of snapshots) if (lane.tracks.some((p) => find(s, p))) seenOn.set(s.host, (seenOn.get(s.host) ?? 0) + 1);
  const host = [...seenOn].reduce<[string, number] | undefined>((best, h) => (!best || h[1] > best[1] ? h : best), undefined)?.[0];
  if (host === undefined) return [];
  const mine = snapshots.filter((s) => s.host === host && yOf.has(s));
  const out: Band[] = [];
  lane.tracks.forEach((peer, ti) => {
    let seen = false;
    let cur: { state: string; y0: number; atMs: number; snapshot: string } | undefined;
    const close = (y1: number) => { if (cur && y1 > cur.y0) out.push({ lane: li, track: ti, ...cur, y1 }); };
    for (const s of mine) {
      const sock = find(s, peer);
      // a compact snapshot (result.json of a large one) keeps only some sockets: not finding one says nothing
      if (!sock && isCompact(s)) continue;
      if (sock) seen = true;
      const state = sock ? sock.state : seen ? GONE : undefined;
      const y = yOf.get(s)!;
      if (state === cur?.state) continue;
      close(y);
      cur = state === undefined ? undefined : { state, y0: y, atMs: s.atMs, snapshot: s.label };
    }
    close(bottom);
  });
  return out;
}

export function layout(input: { segments: Segment[]; labStartUs: number; snapshots?: SnapshotRecord[]; faults?: LadderFault[]; maxEndpoints: number; maxSegments: number }, top: number): Layout {
  const all = connections(input.segments);
  const { drawn, segs } = choose(all, input.maxEndpoints, input.maxSegments);
  const lanes = lanesOf(drawn);
  const laneIx = new Map(lanes.map((l, i) => [l.name, i]));
  const ms = (us: number) => (us - input.labStartUs) / 1000;
  const rows: Row[] = drawn.flatMap((conn) => conn.segments.filter((fs) => segs.has(fs)).map((fs) => ({
    fs, conn, tMs: ms(fs.seg.tUs), y: 0, marks: [] as string[], notes: [] as string[],
    from: laneIx.get(endpointName(fs.seg.src, fs.seg.sport))!, to: laneIx.get(endpointName(fs.seg.dst, fs.seg.dport))!,
  }))).sort((a, b) => a.fs.index - b.fs.index);
  const faults = input.faults ?? [];
  dropped(rows, faults);
  for (const r of rows) {
    r.marks = [r.fs.retransmission ? 'retransmission' : '', r.droppedBy ? `dropped by fault ${r.droppedBy}` : '', r.fs.dupAck ? 'duplicate ACK' : ''].filter(Boolean);
    r.notes = drawn.length > 1 && r.conn.segments[0] === r.fs ? [`connection ${r.conn.id}`, ...r.marks] : r.marks;
  }
  const truncated = segs.size < input.segments.length;
  const lastT = rows.length ? rows[rows.length - 1].tMs : Infinity;
  const inRange = (t: number) => !truncated || t <= lastT;
  const snaps = [...(input.snapshots ?? [])].filter((s) => inRange(s.atMs)).sort((a, b) => a.atMs - b.atMs);
  const marks: Mark[] = faults.filter((f) => (f.op === 'install' || f.op === 'lift') && inRange(f.atMs))
    .map((f) => ({ tMs: f.atMs, y: 0, label: `${f.id} ${f.op === 'install' ? 'installed' : 'lifted'}`, rule: f.op === 'install' ? describe(f) : undefined }));
  // the time axis: every row, mark and snapshot in time order; rows and marks need ROW between them
  type Key = { t: number; set: (y: number) => void; spaced: boolean; noted?: boolean };
  const yOf = new Map<SnapshotRecord, number>();
  const keys: Key[] = [
    ...snaps.map((s) => ({ t: s.atMs, set: (y: number) => yOf.set(s, y), spaced: false })),
    ...marks.map((m) => ({ t: m.tMs, set: (y: number) => (m.y = y), spaced: true })),
    ...rows.map((r) => ({ t: r.tMs, set: (y: number) => (r.y = y), spaced: true, noted: r.notes.length > 0 })),
  ].sort((a, b) => a.t - b.t);
  const breaks: Break[] = [];
  let y = top;
  let lastSpaced = -Infinity;
  let lastRow = ROW; // a row with a note line under its arrow needs more room below
  keys.forEach((k, i) => {
    const gap = i === 0 ? 0 : k.t - keys[i - 1].t;
    if (gap > BREAK_MS) {
      // room below the last arrow for a band label that starts there
      const y0 = Math.max(y, lastSpaced + SLOPE) + 22;
      breaks.push({ y0, y1: y0 + BREAK_H - 12, gapMs: gap });
      y = y0 + BREAK_H + 10; // room above the next arrow for its label
    } else y += Math.min(gap * PX_PER_MS, MAX_GAP_PX);
    if (k.spaced) y = Math.max(y, lastSpaced + lastRow);
    k.set(y);
    if (k.spaced) [lastSpaced, lastRow] = [y, k.noted ? ROW + 10 : ROW];
  });
  const bottom = Math.max(y, lastSpaced) + ROW;
  const bands = lanes.flatMap((l, i) => bandsOf(l, i, snaps, yOf, bottom));
  return {
    lanes, rows, marks, breaks, bands, top, bottom, totalConnections: all.length,
    omitted: { connections: all.length - drawn.length, segments: input.segments.length - rows.length },
  };
}
