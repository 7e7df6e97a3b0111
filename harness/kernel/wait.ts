// Polling waits with a deadline: every wait says what it waited for and what it last saw when it gives up.
import { setMaxListeners } from 'node:events';
import { Interrupted, WaitTimeout } from '../errors.ts';
import { deadline } from './pace.ts';

/**
 * The AbortController that stops a run. Every wait, matrix cell and parallel lab watches its signal while it
 * runs (twelve concurrent cells are twelve listeners), so the default limit of 10 would print Node's leak
 * warning on a correct run; a real leak still shows past this many.
 */
export function stopController(): AbortController {
  const ac = new AbortController();
  setMaxListeners(1000, ac.signal);
  return ac;
}

/** how much of the last observation a timeout message quotes */
const MAX_SEEN = 1500;
/** the default ms between probes; the first probes come sooner (1, 2, 4, 8 ms) */
export const DEFAULT_INTERVAL_MS = 10;

export interface UntilOptions<L> {
  /** what we are waiting for, for the timeout message: "TIME-WAIT on port 9000" */
  what: string;
  /** how long to wait before giving up, as on a host: multiplied by timeScale() on a slower machine (pace.ts) */
  timeoutMs: number;
  /**
   * ms between probes. Without it: 1, 2, 4, 8, then every 10 ms, so a wait for something that is a
   * millisecond away (a message, a state the kernel reaches at once) does not sleep a whole 10 ms.
   */
  intervalMs?: number;
  signal?: AbortSignal;
  /** describe the last observation for the timeout message (may read something more first) */
  describe?: (last: L | undefined) => string | Promise<string>;
  /** called about every progressEveryMs with elapsed ms and the last observation (for live countdowns) */
  onProgress?: (elapsedMs: number, last: L | undefined) => void;
  progressEveryMs?: number;
  /**
   * Event-driven waits: subscribe to whatever can change the probe's answer (a message arriving); calling
   * `notify` probes again at once instead of at the next interval. Returns the unsubscribe function.
   */
  wake?: (notify: () => void) => () => void;
}

/** Sleep `ms`, cut short by a notify from `wake` or an abort; resolves either way. */
function pause(ms: number, nudge: { fire?: () => void }, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      nudge.fire = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    nudge.fire = done;
    signal?.addEventListener('abort', done, { once: true });
  });
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
  const limit = deadline(o.timeoutMs);
  let last: L | undefined;
  let nextProgress = start + (o.progressEveryMs ?? 1000);
  let backoff = 1;
  // a notify that comes while the probe runs must not be lost: the next pause then ends at once
  const nudge: { fire?: () => void; pending?: boolean } = {};
  const unsubscribe = o.wake?.(() => (nudge.fire ? nudge.fire() : (nudge.pending = true)));
  try {
    for (;;) {
      if (o.signal?.aborted) throw new Interrupted(`interrupted while waiting for ${o.what}`);
      nudge.pending = false;
      const r = await probe();
      if (r.done) return r.value;
      last = r.last;
      const now = Date.now();
      if (now - start >= limit) {
        const seen = o.describe ? await o.describe(last) : String(last);
        // a wait over thousands of sockets would otherwise put all of them in one error message
        const cut = seen.length > MAX_SEEN ? `${seen.slice(0, MAX_SEEN)}... (${seen.length - MAX_SEEN} more characters)` : seen;
        throw new WaitTimeout(`no ${o.what} after ${now - start} ms; last seen: ${cut}`);
      }
      if (o.onProgress && now >= nextProgress) {
        o.onProgress(now - start, last);
        nextProgress = now + (o.progressEveryMs ?? 1000);
      }
      const interval = o.intervalMs ?? Math.min(backoff, DEFAULT_INTERVAL_MS);
      backoff *= 2;
      if (!nudge.pending) await pause(Math.min(interval, Math.max(1, limit - (now - start))), nudge, o.signal);
    }
  } finally {
    unsubscribe?.();
  }
}
