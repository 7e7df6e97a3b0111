// Observation helper for labs that drive actors: bracket a step with readings of the namespace's TCP counters.
// (Waiting on ss is ctx.waitSs, the one ss poll.)
import type { LabContext } from './context.ts';
import { counterDelta, formatDelta, readCounters, RESET_COUNTERS, type Counters } from '../kernel/counters.ts';

/** Run a step between two counter readings; record and return the deltas of the reset/abort counters. */
export async function withCounters<T>(ctx: LabContext, label: string, fn: () => Promise<T>, names: readonly string[] = RESET_COUNTERS): Promise<{ value: T; delta: Counters }> {
  const before = await readCounters();
  const value = await fn();
  const after = await readCounters();
  const delta = counterDelta(before, after, names);
  ctx.event('counters', `${label}: ${formatDelta(delta)}`, { label, ...delta });
  return { value, delta };
}
