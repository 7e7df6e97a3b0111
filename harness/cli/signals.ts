// How a run is stopped: SIGINT (Ctrl-C), SIGTERM (a service manager, a CI timeout, npm going away) and SIGHUP
// (a closed terminal) all stop the lab the same way: teardown runs and the partial result is written. The same
// signal often arrives twice at once (the terminal signals the whole group and npm forwards it again); only a
// signal that comes later than that, a deliberate second Ctrl-C, quits at once.
import { constants } from 'node:os';
import { dieWithParent } from '../kernel/ffi.ts';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Repeats of a signal within this many ms of the first are the same interruption delivered twice. */
const SAME_INTERRUPTION_MS = 500;

/** The exit code of a run stopped by `sig`: 128 + its number (130 for SIGINT, 143 SIGTERM, 129 SIGHUP). */
export function exitCodeOf(sig: StopSignal): number {
  return 128 + constants.signals[sig];
}

let parent: number | undefined;

/**
 * Have the kernel send SIGTERM when the parent process dies (npm killed by SIGHUP or SIGKILL does not pass it on;
 * `npm run lab` execs the CLI so that npm is the parent). Called as early as possible; until handleStopSignals()
 * installs its handlers, that SIGTERM simply ends the CLI (nothing has been written yet).
 */
export function watchParent(): void {
  if (parent !== undefined) return;
  parent = process.ppid;
  dieWithParent(constants.signals.SIGTERM);
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM'); // the parent died before prctl took effect
}

/** Did the process that started the CLI go away (so a SIGTERM came from PR_SET_PDEATHSIG, not from a person)? */
export function parentGone(): boolean {
  return parent !== undefined && process.ppid !== parent;
}

/**
 * Call `stop(sig)` on the first stop signal and `quit(sig)` on a deliberate second one. Also make sure the parent's
 * death is noticed (watchParent), so a run never goes on with nobody waiting for it.
 */
export function handleStopSignals(stop: (sig: StopSignal) => void, quit: (sig: StopSignal) => void): void {
  let first: number | undefined;
  for (const sig of STOP_SIGNALS) {
    process.on(sig, () => {
      const now = Date.now();
      if (first === undefined) {
        first = now;
        stop(sig);
      } else if (now - first > SAME_INTERRUPTION_MS) quit(sig);
    });
  }
  watchParent();
}
