// Observation helpers for labs that drive actors: wait for any condition on ss (including a socket being
// gone, which ctx.waitForSockets cannot express), and bracket a step with counter readings.
import type { LabContext } from './context.ts';
import { counterDelta, formatDelta, readCounters, RESET_COUNTERS, type Counters } from './counters.ts';
import { readSockets } from './host.ts';
import type { SockRecord } from './ss.ts';
import { formatRecord } from './ss.ts';
import { until } from './wait.ts';

/** Poll ss until `ok(sockets)` holds; record the final observation as a snapshot when labelled. */
export async function waitSs(
  ctx: LabContext,
  what: string,
  ok: (sockets: SockRecord[]) => boolean,
  o: { timeoutMs?: number; label?: string; processes?: boolean; progress?: boolean } = {},
): Promise<SockRecord[]> {
  await until<SockRecord[], SockRecord[]>(
    async () => {
      const s = await readSockets(ctx.host);
      return ok(s) ? { done: true, value: s } : { done: false, last: s };
    },
    {
      what,
      timeoutMs: o.timeoutMs ?? 2000,
      signal: ctx.signal,
      describe: (last) => (last?.length ? last.map(formatRecord).join(' | ') : 'no sockets'),
      onProgress: o.progress ? (ms) => ctx.progress(`waiting for ${what}: ${(ms / 1000).toFixed(0)} s`) : undefined,
    },
  );
  // the recorded snapshot is taken after the condition held (with -p when asked), so it shows the owners too
  if (o.label) return (await ctx.snapshot(o.label, { processes: o.processes })).sockets;
  return readSockets(ctx.host, { processes: o.processes });
}

/** Run a step between two counter readings; record and return the deltas of the reset/abort counters. */
export async function withCounters<T>(ctx: LabContext, label: string, fn: () => Promise<T>, names: readonly string[] = RESET_COUNTERS): Promise<{ value: T; delta: Counters }> {
  const before = await readCounters();
  const value = await fn();
  const after = await readCounters();
  const delta = counterDelta(before, after, names);
  ctx.event('counters', `${label}: ${formatDelta(delta)}`, { label, ...delta });
  return { value, delta };
}
