// The ss waits behind ctx.waitSs and ctx.waitForSockets. A wait whose predicate only looks at some sockets says
// so with a filter (state, ports), and its polls then ask the kernel for those alone (ss's inet_diag filters):
// with 30,000 sockets present a poll costs a fraction of a full dump. A wait that records something still reads
// every socket for it: the labelled snapshot at its end (the wait ends only if the predicate holds on that read
// too) and, in waits that show progress, the timeline sample due every 200 ms.
import { filterSockets, type SockFilter } from '../evidence/census.ts';
import { readOptionsFor, readSockets, type ReadOptions } from '../evidence/read.ts';
import type { SampleRecord, SnapshotRecord } from '../evidence/records.ts';
import { formatRecord, type SockRecord } from '../evidence/ss.ts';
import type { Host } from '../kernel/host.ts';
import { until } from '../kernel/wait.ts';
import { sampleOf, SAMPLE_EVERY_MS } from './sampling.ts';

export interface WaitSsOptions {
  timeoutMs?: number;
  /** ms between reads (default: 1, 2, 4, 8, then 10); long waits on a kernel timer can read less often */
  intervalMs?: number;
  host?: Host;
  /**
   * The sockets the predicate looks at: polls then read only these (ss's kernel-side filter), and the predicate
   * (and progress, describe) gets only these. Leave it out when the predicate needs every socket.
   */
  filter?: SockFilter;
  /** record the read that satisfied the wait as a snapshot with this label (a read of every socket) */
  label?: string;
  /** which sockets matter for the live report of that snapshot (default: the filter) */
  focus?: SockFilter;
  /** ask ss for the owning processes too (-p) */
  processes?: boolean;
  /** show a progress line about every second while waiting; a function may say more (e.g. the timer) */
  progress?: boolean | ((elapsedMs: number, last: SockRecord[] | undefined) => string);
  /** describe the last read for the timeout message (default: every socket, one per line); may read more first */
  describe?: (last: SockRecord[] | undefined) => string | Promise<string>;
}

export interface WaitSocketsOptions extends Omit<WaitSsOptions, 'describe' | 'filter'> {
  /** at least this many matching sockets (default 1) */
  count?: number;
}

/** What the waits need of the lab context. */
export interface WaitSink {
  host: Host;
  signal: AbortSignal;
  /** ms since the lab started */
  now(): number;
  sample(s: SampleRecord): void;
  progress(text: string): void;
  record(label: string, host: Host, sockets: SockRecord[], focus?: SockFilter): SnapshotRecord;
}

/** Whether a filter asks for anything (an empty one reads every socket anyway). */
function narrows(f: SockFilter | undefined): f is SockFilter {
  return !!f && Object.keys(readOptionsFor(f)).length > 0;
}

/**
 * Read ss until `ready(sockets)` holds, then return that read as a snapshot (recorded when labelled): every
 * socket, or with a filter and no recording, those the filter picks. Throws WaitTimeout naming `what`.
 */
export async function waitSs(sink: WaitSink, what: string, ready: (sockets: SockRecord[]) => boolean, o: WaitSsOptions = {}): Promise<SnapshotRecord> {
  const host = o.host ?? sink.host;
  const { progress, filter } = o;
  const all: ReadOptions = { processes: o.processes };
  const some: ReadOptions | undefined = narrows(filter) ? { ...all, ...readOptionsFor(filter) } : undefined;
  const records = o.label !== undefined || !!progress;
  let lastSample = -Infinity;
  const sockets = await until<SockRecord[], SockRecord[]>(
    async () => {
      // timer waits keep a thinned series of what ss saw (every read that ends the wait, else one per 200 ms)
      const due = !!progress && sink.now() - lastSample >= SAMPLE_EVERY_MS;
      let full = !some || due;
      let read = await readSockets(host, full ? all : some);
      const mine = () => (full && some ? filterSockets(read, filter!) : read);
      let done = ready(mine());
      if (done && records && !full) {
        // what the wait records is a read of every socket, and the wait ends only if it holds there too
        [read, full] = [await readSockets(host, all), true];
        done = ready(mine());
      }
      if (full && progress && (done || due)) {
        lastSample = sink.now();
        sink.sample(sampleOf(read, lastSample, host.name, what));
      }
      return done ? { done: true, value: read } : { done: false, last: mine() };
    },
    {
      what,
      timeoutMs: o.timeoutMs ?? 2000,
      intervalMs: o.intervalMs,
      signal: sink.signal,
      describe: o.describe ?? ((last) => (last?.length ? last.map(formatRecord).join(' | ') : 'no sockets')),
      onProgress: progress
        ? (ms, last) => sink.progress(typeof progress === 'function' ? progress(ms, last) : `waiting for ${what}: ${(ms / 1000).toFixed(0)} s`)
        : undefined,
    },
  );
  if (o.label !== undefined) return sink.record(o.label, host, sockets, o.focus ?? filter);
  return { label: what, host: host.name, atMs: sink.now(), sockets };
}

/** Poll ss (for the filter's sockets only) until at least `count` match; returns them (a snapshot if labelled). */
export async function waitForSockets(sink: WaitSink, what: string, filter: SockFilter, o: WaitSocketsOptions = {}): Promise<SockRecord[]> {
  const count = o.count ?? 1;
  const host = o.host ?? sink.host;
  // on a timeout, the sockets on the filter's ports in any state say what is there instead
  const near: SockFilter = { ...filter, state: undefined };
  const describe = async (last: SockRecord[] | undefined) => {
    const read = await readSockets(host, { processes: o.processes, ...readOptionsFor(near) }).catch(() => last ?? []);
    const xs = filterSockets(read, near);
    return xs.length ? xs.map(formatRecord).join(' | ') : 'no matching sockets';
  };
  const snap = await waitSs(sink, `${count > 1 ? `${count} x ` : ''}${what}`, (read) => filterSockets(read, filter).length >= count, {
    ...o,
    filter,
    focus: o.focus ?? filter,
    describe,
  });
  return filterSockets(snap.sockets, filter);
}
