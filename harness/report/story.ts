// A lab result read as a story, once, for both of its renderings (writeup.md and report.html): the set-up
// facts, the steps with what happened during each, excerpts of long snapshots, sysctls summed up, and
// the ss reads during waits. (What each verdict means is meaning.ts.)
import { diffSockets, formatCensus, RFC_NAME } from '../evidence/census.ts';
import { isCompact, snapshotCounts, snapshotTotal } from '../evidence/compact.ts';
import type { EventRecord, LabResult, SampleRecord, SnapshotRecord } from '../evidence/records.ts';
import { formatRecord, type SsState } from '../evidence/ss.ts';
import { byText } from '../order.ts';

/** A diagram written beside result.json, for the writeup and the HTML report. */
export interface Diagram {
  file: string;
  kind: 'ladder' | 'timeline';
  host?: string;
  caption: string;
}

/** The diagrams among a lab folder's files (ladder-<host>.svg, timeline.svg), ladders first, by file name. */
export function diagramsIn(files: readonly string[]): Diagram[] {
  const out: Diagram[] = [];
  for (const f of [...files].sort()) {
    const ladder = /^ladder-(.+)\.svg$/.exec(f);
    if (ladder) out.push({ file: f, kind: 'ladder', host: ladder[1], caption: `Packets on ${ladder[1]}, from capture-${ladder[1]}.pcap` });
    else if (f === 'timeline.svg') out.push({ file: f, kind: 'timeline', caption: 'Sockets per state over time (ss reads during the waits)' });
  }
  return [...out.filter((d) => d.kind === 'ladder'), ...out.filter((d) => d.kind === 'timeline')];
}

function fileSafe(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** The file a snapshot is stored in under snapshots/ (index counts from 1, in result order). */
export function snapshotFile(index: number, s: Pick<SnapshotRecord, 'host' | 'label'>): string {
  return `${String(index).padStart(2, '0')}-${s.host}-${fileSafe(s.label)}.txt`;
}

/** "CLOSE-WAIT 38, LISTEN 1 (CLOSE_WAIT 38, LISTEN 1)": ss's names, then the articles' (RFC) names. */
export function censusLine(s: SnapshotRecord): string {
  const counts = snapshotCounts(s);
  // in formatCensus's order (most first, then by name), so a compact snapshot reads as its whole one would
  const rfc = Object.entries(counts).sort((x, y) => (y[1] ?? 0) - (x[1] ?? 0) || byText(x[0], y[0])).map(([k, v]) => `${RFC_NAME[k as SsState]} ${v}`).join(', ');
  return `${formatCensus(counts)}${rfc ? ` (${rfc})` : ''}`;
}

/** "since «label»: 2 new, 1 gone, ESTAB → TIME-WAIT ×3" (what changed between two snapshots of one host). */
export function changeLine(prev: SnapshotRecord, s: SnapshotRecord): string {
  // a compact snapshot has only some of its sockets: compare the counts per state instead
  if (isCompact(prev) || isCompact(s)) return `since "${prev.label}": ${countChange(snapshotCounts(prev), snapshotCounts(s))}`;
  const d = diffSockets(prev.sockets, s.sockets);
  const moves = new Map<string, number>();
  for (const c of d.changed) moves.set(`${c.before.state} → ${c.after.state}`, (moves.get(`${c.before.state} → ${c.after.state}`) ?? 0) + 1);
  const parts = [
    d.added.length ? `${d.added.length} new` : '',
    d.removed.length ? `${d.removed.length} gone` : '',
    ...[...moves].map(([m, n]) => (n > 1 ? `${m} ×${n}` : m)),
  ].filter(Boolean);
  return `since "${prev.label}": ${parts.length ? parts.join(', ') : 'no change'}`;
}

/** "TIME-WAIT +28,000, ESTAB -2" (states by name), or "no change in the counts". */
function countChange(a: Partial<Record<string, number>>, b: Partial<Record<string, number>>): string {
  const parts: string[] = [];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d) parts.push(`${k} ${d > 0 ? '+' : '-'}${Math.abs(d).toLocaleString('en-US')}`);
  }
  return parts.length ? parts.join(', ') : 'no change in the counts';
}

/** Snapshots longer than this are excerpted. */
export const EXCERPT_OVER = 20;
const PER_STATE = 3;
const EXCERPT_LINES = 12;

/**
 * A snapshot's lines, or for a long one the first few of each state (at most 3, fewer when there are many
 * states, so every state shows), in ss order, and how many were left out (of a compact snapshot: from the
 * sockets it kept, which hold the first few of every state, so the excerpt is the whole snapshot's).
 */
export function snapshotLines(s: SnapshotRecord): { lines: string[]; more: number } {
  const total = snapshotTotal(s);
  if (total <= EXCERPT_OVER) return { lines: s.sockets.map(formatRecord), more: 0 };
  const states = new Set(s.sockets.map((k) => k.state)).size;
  const quota = Math.max(1, Math.min(PER_STATE, Math.floor(EXCERPT_LINES / states)));
  const shown = new Map<string, number>();
  const lines: string[] = [];
  for (const k of s.sockets) {
    if ((shown.get(k.state) ?? 0) >= quota) continue;
    shown.set(k.state, (shown.get(k.state) ?? 0) + 1);
    lines.push(formatRecord(k));
  }
  return { lines, more: total - lines.length };
}

export type StepItem =
  | { type: 'event'; at: number; event: EventRecord }
  | { type: 'snapshot'; at: number; snapshot: SnapshotRecord; file: string; prev?: SnapshotRecord };

/** One step (a 'step' event) and what was recorded until the next; the first group may have no step. */
export interface StepGroup {
  title?: string;
  at?: number;
  host?: string;
  items: StepItem[];
}

/** Events and snapshots in time order (ties: events before snapshots, then record order), grouped by step. */
export function stepGroups(r: Pick<LabResult, 'events' | 'snapshots'>): StepGroup[] {
  const items: StepItem[] = [
    ...r.events.map((event): StepItem => ({ type: 'event', at: event.atMs, event })),
    ...r.snapshots.map((snapshot, i): StepItem => ({
      type: 'snapshot',
      at: snapshot.atMs,
      snapshot,
      file: snapshotFile(i + 1, snapshot),
      prev: r.snapshots.slice(0, i).reverse().find((p) => p.host === snapshot.host),
    })),
  ];
  const order = new Map(items.map((it, i) => [it, i]));
  items.sort((a, b) => a.at - b.at || order.get(a)! - order.get(b)!);
  const groups: StepGroup[] = [];
  for (const it of items) {
    if (it.type === 'event' && it.event.kind === 'step') groups.push({ title: it.event.detail, at: it.at, host: it.event.host, items: [] });
    else {
      if (!groups.length) groups.push({ items: [] });
      groups[groups.length - 1].items.push(it);
    }
  }
  return groups;
}

const MAX_LISTED = 8;

/** The lab's set-up as far as result.json tells it. */
export interface SetupFacts {
  /** the lab's own description of its set-up, when the result carries it */
  text?: string;
  reproduce: string;
  /** [sysctl, value]; when many (per-host names "host:sysctl"), one row per sysctl with its values summed up */
  sysctls: [string, string][];
  /** whether `sysctls` is summed up per name (many hosts) rather than listed as set */
  sysctlsGrouped: boolean;
  /** the hosts (network namespaces) that appear in the run, at most MAX_LISTED */
  hosts: string[];
  /** links the lab made between namespaces (topology events), at most MAX_LISTED */
  links: string[];
  /** the fault rules installed (what each dropped or counted), at most MAX_LISTED */
  faults: string[];
  /** how many of each list were left out */
  more: { hosts: number; links: number; faults: number };
}

/**
 * The sysctls as [name, value] pairs, or, past MAX_LISTED entries (matrices set them per host, as
 * "host:name"), one row per name: "0 on 6 hosts, 1 on 4 hosts".
 */
export function sysctlRows(sysctls: Record<string, string>): [string, string][] {
  const entries = Object.entries(sysctls).sort(([a], [b]) => byText(a, b));
  if (entries.length <= MAX_LISTED) return entries;
  const byName = new Map<string, Map<string, string[]>>();
  for (const [key, value] of entries) {
    const colon = key.lastIndexOf(':');
    const [host, name] = colon > 0 ? [key.slice(0, colon), key.slice(colon + 1)] : ['', key];
    const values = byName.get(name) ?? new Map<string, string[]>();
    values.set(value, [...(values.get(value) ?? []), host]);
    byName.set(name, values);
  }
  return [...byName].sort(([a], [b]) => byText(a, b)).map(([name, values]) => [
    name,
    [...values].sort(([a], [b]) => byText(a, b)).map(([v, hosts]) => {
      const named = hosts.filter(Boolean);
      return named.length ? `${v} on ${named.length <= 2 ? named.join(', ') : `${named.length} hosts`}` : v;
    }).join('; '),
  ]);
}

const firstOf = <T>(xs: T[]) => xs.slice(0, MAX_LISTED);
const restOf = (xs: unknown[]) => Math.max(0, xs.length - MAX_LISTED);

export function setupFacts(r: LabResult, reproduce: string): SetupFacts {
  const text = r.setup;
  const hosts = [...new Set([...r.events.map((e) => e.host), ...r.snapshots.map((s) => s.host), ...(r.captures ?? []).map((c) => c.host)])];
  const links = r.events.filter((e) => e.kind === 'topology').map((e) => e.detail);
  const faults = r.events.filter((e) => e.kind === 'fault' && (e.data as { op?: string } | undefined)?.op === 'install').map((e) => e.detail.replace(/^install /, ''));
  return {
    ...(typeof text === 'string' && text.trim() ? { text: text.trim() } : {}),
    reproduce,
    sysctls: sysctlRows(r.sysctls),
    sysctlsGrouped: Object.keys(r.sysctls).length > MAX_LISTED,
    hosts: firstOf(hosts),
    links: firstOf(links),
    faults: firstOf(faults),
    more: { hosts: restOf(hosts), links: restOf(links), faults: restOf(faults) },
  };
}

/** Event kinds that set a lab up (already told in the set-up), folded into one line in a busy step. */
const SETUP_KINDS = new Set(['netns', 'sysctl', 'topology', 'capture']);
export const MAX_STEP_EVENTS = 12;

/**
 * A step's items with its events condensed: set-up events (namespaces, sysctls, links) beyond three are
 * counted instead of listed, and past MAX_STEP_EVENTS events only the first ones are kept; `folded` says what
 * was left out ("24 netns, 53 sysctl"), counted by kind.
 */
export function condensedItems(items: readonly StepItem[]): { items: StepItem[]; folded: string } {
  const isSetup = (it: StepItem) => it.type === 'event' && SETUP_KINDS.has(it.event.kind);
  const setupEvents = items.filter(isSetup);
  const fold = setupEvents.length > 3;
  const base = fold ? items.filter((it) => !isSetup(it)) : [...items];
  const events = base.filter((it) => it.type === 'event').length;
  const left = fold ? setupEvents : [];
  let seen = 0;
  const kept = base.filter((it) => {
    if (it.type !== 'event' || events <= MAX_STEP_EVENTS || ++seen <= MAX_STEP_EVENTS - 2) return true;
    left.push(it);
    return false;
  });
  const counts = new Map<string, number>();
  for (const it of left) if (it.type === 'event') counts.set(it.event.kind, (counts.get(it.event.kind) ?? 0) + 1);
  return { items: kept, folded: [...counts].map(([k, n]) => `${n} ${k}`).join(', ') };
}

/** Consecutive ss reads of one host and wait with the same counts, merged: the samples as a short table. */
export function sampleRuns(samples: readonly SampleRecord[]): { from: number; to: number; host: string; wait: string; reads: number; counts: string }[] {
  const out: { from: number; to: number; host: string; wait: string; reads: number; counts: string }[] = [];
  for (const s of samples) {
    const counts = Object.entries(s.counts).sort(([a], [b]) => byText(a, b)).map(([k, v]) => `${k} ${v}`).join(', ') || 'no sockets';
    const last = out[out.length - 1];
    if (last && last.host === s.host && last.wait === s.wait && last.counts === counts) {
      last.to = s.atMs;
      last.reads++;
    } else out.push({ from: s.atMs, to: s.atMs, host: s.host, wait: s.wait, reads: 1, counts });
  }
  return out;
}
