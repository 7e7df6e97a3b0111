// A plain timed pause, for the few waits that are a measured cadence (retry every N ms), not a state to observe.
import { setTimeout as delay } from 'node:timers/promises';

/** Wait `ms` milliseconds (retry pacing only; states are waited for with until()/waitForSockets). */
export function sleep(ms: number): Promise<void> {
  return delay(ms).then(() => undefined);
}
