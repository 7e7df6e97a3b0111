// Samples for the state timeline: ss reads reduced to sockets per state and timer ranges, taken during the waits
// that show progress (context.ts) and, with sampleWhile, on a schedule while a lab churns or waits on events.
import type { SockFilter } from '../evidence/census.ts';
import { readOptionsFor, readSockets } from '../evidence/read.ts';
import type { SampleRecord } from '../evidence/records.ts';
import type { SockRecord } from '../evidence/ss.ts';
import type { Host } from '../kernel/host.ts';

/** At most one sample per this many ms in a polling wait (the read that ends the wait is always kept). */
export const SAMPLE_EVERY_MS = 200;

/** One ss read as a timeline sample: sockets per state and, per timer, the range of remaining times. */
export function sampleOf(read: readonly SockRecord[], atMs: number, host: string, wait: string): SampleRecord {
  const counts: Record<string, number> = {};
  const timers: Record<string, { minMs: number; maxMs: number; n: number }> = {};
  for (const s of read) {
    counts[s.state] = (counts[s.state] ?? 0) + 1;
    const ms = s.timer?.remainingMs;
    if (!s.timer || ms === undefined) continue;
    const t = (timers[s.timer.name] ??= { minMs: ms, maxMs: ms, n: 0 });
    t.minMs = Math.min(t.minMs, ms);
    t.maxMs = Math.max(t.maxMs, ms);
    t.n++;
  }
  return { atMs, host, wait, counts, ...(Object.keys(timers).length ? { timers } : {}) };
}

export interface SampleWhileOptions {
  /** hosts to read (default: the lab's own) */
  hosts?: Host[];
  /** ms between reads of one host (default SAMPLE_EVERY_MS) */
  everyMs?: number;
  /**
   * count only these sockets (ss's kernel-side filter: with thousands of sockets present a read of a few costs a
   * fraction of a full one); say so in `what`, since the timeline then shows only them. Default: every socket.
   */
  filter?: SockFilter;
}

interface Sink {
  signal: AbortSignal;
  now: () => number;
  push: (s: SampleRecord) => void;
}

/** Run fn while sampling the hosts on a schedule; one more read of each host once fn has settled. */
export async function sampleWhile<T>(what: string, fn: () => Promise<T>, o: SampleWhileOptions, sink: Sink): Promise<T> {
  const every = o.everyMs ?? SAMPLE_EVERY_MS;
  const hosts = o.hosts ?? [];
  const narrow = o.filter ? readOptionsFor(o.filter) : {};
  const read = async () => {
    for (const h of hosts) {
      const at = sink.now();
      sink.push(sampleOf(await readSockets(h, narrow), at, h.name, what));
    }
  };
  let stop = false;
  let wake: () => void = () => {};
  const loop = (async () => {
    while (!stop && !sink.signal.aborted) {
      const started = sink.now();
      await read().catch(() => {}); // a read that fails mid-teardown costs a sample, not the lab
      const left = every - (sink.now() - started);
      if (left > 0 && !stop) await new Promise<void>((r) => { wake = r; setTimeout(r, left); });
    }
  })();
  try {
    return await fn();
  } finally {
    stop = true;
    wake();
    await loop;
    if (!sink.signal.aborted) await read().catch(() => {});
  }
}
