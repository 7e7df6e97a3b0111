// Error types the harness distinguishes: a user's mistake (one line, no stack), an external command
// that failed (names the command and what it said), and a lab that cannot run here (skipped, with why).

/** A mistake the user can fix (bad lab name, bad option, missing tool): printed as one line, no stack. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}

/** An external command (ss, ip, sysctl, nft, unshare...) that failed; the original error is `cause`. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly output: string,
    readonly exitCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    const said = output.trim().split('\n').slice(-3).join(' | ');
    super(`command failed: ${command}${exitCode === undefined ? '' : ` (exit ${exitCode})`}${said ? `: ${said}` : ''}`, options);
    this.name = 'CommandError';
  }
}

/** Thrown by a lab (or its set-up) when it cannot run on this machine; the run's outcome becomes "skipped". */
export class LabSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LabSkip';
  }
}

/** A wait that ran out of time; the message says what was expected and what was last seen. */
export class WaitTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeout';
  }
}

/** The lab was interrupted (Ctrl-C, SIGTERM, the parent went away). */
export class Interrupted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Interrupted';
  }
}
