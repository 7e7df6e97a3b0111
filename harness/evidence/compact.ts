// Large snapshots stored compactly: result.json keeps the counts per state and the sockets that matter (those
// the snapshot's focus picks, capped, plus a few of every state), and names the file under snapshots/ that has
// every line. A 30,000-socket snapshot is then a few dozen KB of JSON instead of several MB. Readers use
// snapshotCounts/snapshotTotal, which work on whole and compact snapshots alike.
import { census } from './census.ts';
import { focusTest } from './live.ts';
import type { SnapshotRecord } from './records.ts';
import type { SockRecord, SsState } from './ss.ts';
import { byText } from '../order.ts';

/** A snapshot with more sockets than this is stored compactly in result.json. */
export const COMPACT_OVER = 200;
/** At most this many of the sockets the focus picks are kept. */
export const KEEP_FOCUSED = 100;
/** Of each state, at least this many (when there are) are kept besides the focused ones; without a focus, KEEP_PER_STATE. */
export const KEEP_EXAMPLES = 3;
export const KEEP_PER_STATE = 10;

/** Whether a snapshot holds only some of its sockets (the rest are in its `file`). */
export function isCompact(s: SnapshotRecord): boolean {
  return s.total !== undefined;
}

/** How many sockets ss printed for the snapshot. */
export function snapshotTotal(s: SnapshotRecord): number {
  return s.total ?? s.sockets.length;
}

/** Sockets per state over every socket of the snapshot, compact or not. */
export function snapshotCounts(s: SnapshotRecord): Partial<Record<SsState, number>> {
  return s.counts ?? census(s.sockets);
}

/**
 * The sockets a compact snapshot keeps, in ss order: the first KEEP_FOCUSED the focus picks, and of every
 * state at least KEEP_EXAMPLES (without a focus: KEEP_PER_STATE of each state).
 */
export function keptSockets(sockets: readonly SockRecord[], focus?: SnapshotRecord['focus']): SockRecord[] {
  const test = focus ? focusTest(focus) : undefined;
  const perState = new Map<string, number>();
  const quota = test ? KEEP_EXAMPLES : KEEP_PER_STATE;
  const out: SockRecord[] = [];
  let focused = 0;
  for (const s of sockets) {
    const n = perState.get(s.state) ?? 0;
    const pick = test && focused < KEEP_FOCUSED && test(s);
    if (!pick && n >= quota) continue;
    if (pick) focused++;
    perState.set(s.state, n + 1);
    out.push(s);
  }
  return out;
}

/**
 * A snapshot as result.json stores it: unchanged (without its focus) up to COMPACT_OVER sockets, else
 * compact, with `file` naming where every line is (relative to result.json).
 */
export function storedSnapshot(s: SnapshotRecord, file: string): SnapshotRecord {
  const { focus, ...rest } = s;
  if (isCompact(s) || s.sockets.length <= COMPACT_OVER) return isCompact(s) ? s : rest;
  return {
    ...rest,
    sockets: keptSockets(s.sockets, focus),
    ...(focus ? { focus } : {}),
    total: s.sockets.length,
    counts: sortedCounts(census(s.sockets)),
    file,
  };
}

/** Counts with their states in a fixed order (by name), so result.json diffs well. */
function sortedCounts(c: Partial<Record<SsState, number>>): Partial<Record<SsState, number>> {
  return Object.fromEntries(Object.entries(c).sort(([a], [b]) => byText(a, b)));
}
