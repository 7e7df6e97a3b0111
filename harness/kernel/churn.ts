// Connection churn through libc: open and close many short connections in plain system calls, in slices that
// hold the event loop for a few milliseconds at a time. Node's event loop spends ~20 system calls on one short
// connection; churn-loop.ts spends what a C program does, so a lab that fills TIME-WAIT runs at the kernel's
// speed, not libuv's (npm run bench -- churn measures both side by side).
import { Interrupted } from '../errors.ts';
import { ChurnLoop, type ChurnPlan, type ChurnResult } from './churn-loop.ts';

export type { ChurnPlan, ChurnResult } from './churn-loop.ts';

/**
 * Open and close `plan.n` short connections in system calls made from this thread. Resolves once each one's
 * closer has read its peer's FIN (the closer is in TIME-WAIT, the other side closed), with the client ports.
 * The event loop gets a turn every sliceMs; an aborted signal stops the churn between slices (Interrupted).
 */
export async function churnConnections(plan: ChurnPlan): Promise<ChurnResult> {
  const inFlight = Math.max(1, Math.min(plan.inFlight ?? 1, plan.n));
  const loop = new ChurnLoop(plan, inFlight);
  const slice = plan.sliceMs ?? 20;
  const t0 = performance.now();
  const out: ChurnResult = { ports: [], ms: 0 };
  try {
    let more = true;
    while (more && out.ports.length < plan.n) {
      if (plan.signal?.aborted) throw new Interrupted(`interrupted after ${out.ports.length} of ${plan.n} connections`);
      const sliceEnd = performance.now() + slice;
      // the clock is read every 8 batches: a batch takes tens of microseconds
      for (let b = 0; more && out.ports.length < plan.n; b++) {
        more = loop.batch(Math.min(inFlight, plan.n - out.ports.length), out);
        if ((b & 7) === 7 && performance.now() >= sliceEnd) break;
      }
      if (more && out.ports.length < plan.n) await new Promise((r) => setImmediate(r));
    }
  } finally {
    loop.free();
  }
  out.ms = performance.now() - t0;
  return out;
}
