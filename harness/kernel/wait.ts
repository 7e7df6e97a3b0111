// Polling waits with a deadline: every wait says what it waited for and what it last saw when it gives up.
import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted, WaitTimeout } from '../errors.ts';

/** how much of the last observation a timeout message quotes */
const MAX_SEEN = 1500;

export interface UntilOptions<L> {
  /** what we are waiting for, for the timeout message: "TIME-WAIT on port 9000" */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** describe the last observation for the timeout message */
  describe?: (last: L | undefined) => string;
  /** called about every progressEveryMs with elapsed ms and the last observation (for live countdowns) */
  onProgress?: (elapsedMs: number, last: L | undefined) => void;
  progressEveryMs?: number;
}

/**
 * Poll `probe` until it returns { done: true, value }; each probe's `last` is kept for the message.
 * Throws WaitTimeout: "no <what> after <ms> ms; last seen: <describe(last)>".
 */
export async function until<T, L = T>(
  probe: () => Promise<{ done: true; value: T } | { done: false; last: L }>,
  o: UntilOptions<L>,
): Promise<T> {
  const start = Date.now();
  const interval = o.intervalMs ?? 10;
  let last: L | undefined;
  let nextProgress = start + (o.progressEveryMs ?? 1000);
  for (;;) {
    if (o.signal?.aborted) throw new Interrupted(`interrupted while waiting for ${o.what}`);
    const r = await probe();
    if (r.done) return r.value;
    last = r.last;
    const now = Date.now();
    if (now - start >= o.timeoutMs) {
      const seen = o.describe ? o.describe(last) : String(last);
      // a wait over thousands of sockets would otherwise put all of them in one error message
      const cut = seen.length > MAX_SEEN ? `${seen.slice(0, MAX_SEEN)}... (${seen.length - MAX_SEEN} more characters)` : seen;
      throw new WaitTimeout(`no ${o.what} after ${now - start} ms; last seen: ${cut}`);
    }
    if (o.onProgress && now >= nextProgress) {
      o.onProgress(now - start, last);
      nextProgress = now + (o.progressEveryMs ?? 1000);
    }
    await sleep(Math.min(interval, Math.max(1, o.timeoutMs - (now - start))));
  }
}
