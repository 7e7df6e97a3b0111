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

/** User input echoed in a message: quoted, control characters escaped, shortened to 60 characters. */
export function quote(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const safe = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `'${safe.length > 60 ? `${safe.slice(0, 57)}...` : safe}'`;
}

/** Every sentence a user sees about a bad lab option, built here. */
export const optionErrors = {
  badValue: (name: string, raw: unknown, accepted: string) => new UserError(`option --${name}: ${quote(raw)} is not valid; expected ${accepted}`),
  empty: (name: string, accepted: string) => new UserError(`option --${name}: needs at least one value; expected ${accepted}`),
  repeated: (name: string, times: number) => new UserError(`option --${name}: given ${times} times; give it once`),
  unknown: (lab: string, name: string, known: readonly string[]) =>
    new UserError(`lab ${lab} has no option --${quote(name).slice(1, -1)}${known.length ? `; its options are ${known.map((k) => `--${k}`).join(', ')}` : ''}`),
};

/** Sentences about naming a lab. */
export const labErrors = {
  unknown: (name: string, near: readonly string[]) =>
    new UserError(`unknown lab ${quote(name)}${near.length ? `; did you mean ${near.join(', ')}?` : ''} (run 'npm run lab list' to see all labs)`),
};
