// Work with parsed snapshots: filter by port, count by state (the articles' netstat|awk census), diff two.
import { parseEndpoint, type SockRecord, type SsState } from './ss.ts';
import { byText } from '../order.ts';

/** ss state name → the RFC 793 name the articles use. */
export const RFC_NAME: Record<SsState, string> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RCVD',
  'FIN-WAIT-1': 'FIN_WAIT_1',
  'FIN-WAIT-2': 'FIN_WAIT_2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSED',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

export interface SockFilter {
  /** local or peer port equals this */
  port?: number;
  localPort?: number;
  peerPort?: number;
  state?: SsState | readonly SsState[];
}

/** Keep the records that match every given field of the filter. */
export function filterSockets(sockets: readonly SockRecord[], f: SockFilter = {}): SockRecord[] {
  const states = f.state === undefined ? undefined : new Set(typeof f.state === 'string' ? [f.state] : f.state);
  return sockets.filter((s) => {
    if (states && !states.has(s.state)) return false;
    const lp = parseEndpoint(s.local).port;
    const pp = parseEndpoint(s.peer).port;
    if (f.port !== undefined && lp !== f.port && pp !== f.port) return false;
    if (f.localPort !== undefined && lp !== f.localPort) return false;
    if (f.peerPort !== undefined && pp !== f.peerPort) return false;
    return true;
  });
}

/** Count sockets per state, like `netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'`. */
export function census(sockets: readonly SockRecord[]): Partial<Record<SsState, number>> {
  const out: Partial<Record<SsState, number>> = {};
  for (const s of sockets) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}

/** A socket's identity across snapshots: its address pair (a state change keeps the key). */
export function socketKey(s: SockRecord): string {
  return `${s.local} ${s.peer}`;
}

export interface SnapshotDiff {
  added: SockRecord[];
  removed: SockRecord[];
  changed: { before: SockRecord; after: SockRecord }[];
}

/** What appeared, disappeared and changed state between two snapshots (same address pair = same socket). */
export function diffSockets(before: readonly SockRecord[], after: readonly SockRecord[]): SnapshotDiff {
  const index = (xs: readonly SockRecord[]) => {
    const m = new Map<string, SockRecord[]>();
    for (const s of xs) {
      const k = socketKey(s);
      m.set(k, [...(m.get(k) ?? []), s]);
    }
    return m;
  };
  const b = index(before);
  const a = index(after);
  const diff: SnapshotDiff = { added: [], removed: [], changed: [] };
  for (const [k, bs] of b) {
    const as = [...(a.get(k) ?? [])];
    for (const x of bs) {
      const same = as.findIndex((y) => y.state === x.state);
      if (same >= 0) as.splice(same, 1);
      else if (as.length) diff.changed.push({ before: x, after: as.shift()! });
      else diff.removed.push(x);
    }
    a.set(k, as);
  }
  for (const as of a.values()) diff.added.push(...as);
  return diff;
}

/** One-line census text, e.g. "TIME-WAIT 3, LISTEN 1" (states in ss order of frequency). */
export function formatCensus(c: Partial<Record<SsState, number>>): string {
  const entries = Object.entries(c).sort((x, y) => (y[1] ?? 0) - (x[1] ?? 0) || byText(x[0], y[0]));
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(', ') : 'no sockets';
}
