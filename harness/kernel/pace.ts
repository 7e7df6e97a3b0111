// How much slower than the machine's own speed the harness runs here. On a host it is 1. In a guest that QEMU
// emulates (TCG: every instruction translated, 5-20x slower) the harness's own work (starting processes, running
// ss, parsing) is that much slower while the guest kernel's timers still run in real time. Deadlines (how long to
// wait before giving up) are multiplied by it, so a slow guest does not turn a wait that would have succeeded
// into an error; what a lab measures (timer lengths, when a state appeared) is never scaled.

/** The factor for an emulated guest when TCP_LAB_TIME_SCALE does not say otherwise (TCG measured 5-20x). */
export const EMULATED_SCALE = 10;

/** TCP_LAB_TIME_SCALE (1-100) if set, else 10 in an emulated guest (TCP_LAB_RAN_ON=emulated), else 1. */
export function timeScale(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.TCP_LAB_TIME_SCALE);
  if (env.TCP_LAB_TIME_SCALE !== undefined && Number.isFinite(given) && given >= 1 && given <= 100) return given;
  return env.TCP_LAB_RAN_ON === 'emulated' ? EMULATED_SCALE : 1;
}

/** A deadline as this machine needs it: `ms` times timeScale(). */
export function deadline(ms: number): number {
  return Math.round(ms * timeScale());
}
