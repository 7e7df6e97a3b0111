// How much slower than the machine's own speed the harness runs here. On an idle host it is 1. In a guest that
// QEMU emulates (TCG: every instruction translated, 5-20x slower) the harness's own work (starting processes,
// running ss, parsing) is that much slower while the guest kernel's timers still run in real time; on a host
// whose cores are all busy (CI running several test files, a suite beside other work) the same holds, less so.
// Deadlines (how long to wait before giving up) are multiplied by it, so slowness does not turn a wait that
// would have succeeded into an error; what a lab measures (timer lengths, when a state appeared) is never scaled.
import { availableParallelism, loadavg } from 'node:os';

/** The factor for an emulated guest when TCP_LAB_TIME_SCALE does not say otherwise (TCG measured 5-20x). */
export const EMULATED_SCALE = 10;
/** The most a busy host stretches a deadline. */
export const MAX_LOAD_SCALE = 4;

/** How busy the host is: runnable tasks per core over the last minute, from 1 (idle or less) to MAX_LOAD_SCALE. */
export function loadScale(load = loadavg()[0], cores = availableParallelism()): number {
  return Math.min(MAX_LOAD_SCALE, Math.max(1, load / Math.max(1, cores)));
}

/**
 * How busy the host of a guest was when the guest was started (TCP_LAB_HOST_LOAD, its loadScale, set by the
 * kernel run): an emulated guest's vCPUs share the host's cores, and the guest cannot see that from inside.
 */
function hostLoad(env: NodeJS.ProcessEnv): number {
  const l = Number(env.TCP_LAB_HOST_LOAD);
  return Number.isFinite(l) ? Math.min(MAX_LOAD_SCALE, Math.max(1, l)) : 1;
}

/**
 * TCP_LAB_TIME_SCALE (1-100) if set; else, in an emulated guest (TCP_LAB_RAN_ON=emulated), 10 times how busy its
 * host was (TCP_LAB_HOST_LOAD); else how busy the host is (loadScale: 1 when its cores are not all busy).
 */
export function timeScale(env: NodeJS.ProcessEnv = process.env, load = loadScale()): number {
  const given = Number(env.TCP_LAB_TIME_SCALE);
  if (env.TCP_LAB_TIME_SCALE !== undefined && Number.isFinite(given) && given >= 1 && given <= 100) return given;
  return env.TCP_LAB_RAN_ON === 'emulated' ? Math.round(EMULATED_SCALE * hostLoad(env) * 10) / 10 : load;
}

/** A deadline as this machine needs it now: `ms` times timeScale(). */
export function deadline(ms: number): number {
  return Math.round(ms * timeScale());
}

/**
 * How much slower this machine itself is, leaving out how busy the host is: 10 in an emulated guest (or
 * TCP_LAB_TIME_SCALE), 1 on any host. A lab that shortens a kernel timer in its sandbox may lengthen it by this
 * (and record it) so a slow guest's harness still sees the state the timer ends; on a host its settings never
 * depend on the load.
 */
export function machineSlowness(env: NodeJS.ProcessEnv = process.env): number {
  return timeScale({ ...env, TCP_LAB_HOST_LOAD: undefined }, 1);
}
