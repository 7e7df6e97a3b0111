// One boot of a guest with one accelerator: start QEMU, follow its console (start and exit markers) and
// the command's output port, stop it at the deadline or on abort, and say what happened.
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { stage2Script } from './script.ts';
import { parseMarker } from './script.ts';
import { CONSOLE_FD, OUTPUT_FD, spawnQemu, stopQemu } from './qemu.ts';
import type { KernelEntry } from './cache.ts';

export interface BootRequest {
  kernel: KernelEntry;
  command: string[];
  cwd: string;
  share: string;
  env: Record<string, string>;
  memoryMb?: number;
  cpus?: number;
  /** absolute time (Date.now()) to stop at */
  deadlineAt: number;
  signal?: AbortSignal;
  /** after an abort, how long the command gets to stop by itself before QEMU is stopped (default STOP_GRACE_MS) */
  stopGraceMs?: number;
  onLine?: (line: string) => void;
  /** KVM trial: give up when no start marker came within this many ms */
  probeMs?: number;
}

export interface BootResult {
  /** the command's exit code; null when the guest died, was stopped or timed out first */
  exitCode: number | null;
  /** QEMU started → the command started */
  bootMs: number;
  /** guest uptime when the command started: the kernel's own boot */
  kernelBootMs?: number;
  totalMs: number;
  timedOut: boolean;
  aborted: boolean;
  /** an abort asked the command to stop (then exitCode says how it ended: 143 once it stopped its labs) */
  stopAsked?: boolean;
  /** the last lines of console, QEMU and the command, for a report when something went wrong */
  tail: string[];
  /** why there is no exit code, in one line */
  problem?: string;
  /** with probeMs: KVM could not run this kernel (QEMU failed, or the guest never got to our init) */
  kvmFailed?: string;
  /** what QEMU said when KVM failed, also when that was after the command had started */
  kvmTrouble?: string;
}

const TAIL = 40;
/** how long a guest asked to stop gets to stop its labs, write their results and power off (emulated: slowly) */
export const STOP_GRACE_MS = 60_000;
const KVM_TROUBLE = /KVM internal error|emulation failure|kvm_.*(failed|Assertion)|failed to initialize kvm|Could not access KVM/i;

/** Calls `each` with every complete line of a stream (carriage returns dropped), and the last partial one at the end. */
export function eachLine(stream: Readable | null | undefined, each: (line: string) => void): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) each(p.replace(/\r/g, ''));
  });
  stream?.on('end', () => rest && each(rest.replace(/\r/g, '')));
  // the other end went away with input it never read (a stop request to a guest that was then killed): the lines
  // read so far stand, and the process's own exit says the rest
  stream?.on('error', () => rest && each(rest.replace(/\r/g, '')));
}

export async function bootOnce(b: BootRequest, accel: 'kvm' | 'tcg'): Promise<BootResult> {
  const nonce = randomBytes(8).toString('hex');
  const script = stage2Script({
    nonce, release: b.kernel.release, modules: b.kernel.modules, share: b.share, cwd: b.cwd, command: b.command, env: { ...b.env, TCP_LAB_RAN_ON: accel === 'kvm' ? 'kvm' : 'emulated' },
  });
  const t0 = Date.now();
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
  };
  let startedAt: number | undefined;
  let kernelBootMs: number | undefined;
  let exitCode: number | null | undefined;
  let guestSpoke = false;
  let stopped: 'deadline' | 'abort' | 'kvm' | 'linger' | undefined;
  let stopAsked = false;
  let kvmTrouble: string | undefined;
  let problem: string | undefined;
  const child = spawnQemu({ accel, kernel: b.kernel.vmlinux ?? b.kernel.vmlinuz, initramfs: b.kernel.initramfs, share: b.share, script, memoryMb: b.memoryMb, cpus: b.cpus });
  const stop = (why: NonNullable<typeof stopped>) => {
    stopped ??= why;
    stopQemu(child);
  };
  eachLine(child.stdio[CONSOLE_FD] as Readable, (line) => {
    const m = parseMarker(line, nonce);
    if (m?.kind === 'start') {
      startedAt = Date.now();
      guestSpoke = true;
      if (Number.isFinite(m.uptimeS)) kernelBootMs = Math.round(m.uptimeS * 1000);
      return;
    }
    if (m) return;
    if (/^tcp-lab-(init|guest): /.test(line)) {
      guestSpoke = true;
      problem = line.replace(/^tcp-lab-\w+: /, 'in the guest: ');
    }
    if (line.trim()) keep(line);
  });
  // the command's output; the exit marker follows a newline the script writes, so the empty line before it is not output
  let heldEmpty = false;
  eachLine(child.stdio[OUTPUT_FD] as Readable, (line) => {
    const m = parseMarker(line, nonce);
    if (m?.kind === 'exit') {
      heldEmpty = false;
      exitCode = m.code;
      setTimeout(() => stop('linger'), 15_000).unref(); // it powers off by itself; this is in case it does not
      return;
    }
    if (heldEmpty) {
      b.onLine?.('');
      keep('');
    }
    heldEmpty = line === '';
    if (heldEmpty) return;
    b.onLine?.(line);
    keep(line);
  });
  const qemuSaid = (line: string) => {
    if (!line.trim()) return;
    keep(line);
    // KVM stopped the guest (it stays paused): end it, before or after the command started
    if (accel === 'kvm' && KVM_TROUBLE.test(line)) {
      kvmTrouble ??= line.trim();
      stop('kvm');
    }
  };
  eachLine(child.stdout, qemuSaid);
  eachLine(child.stderr, qemuSaid);
  const deadline = setTimeout(() => stop('deadline'), Math.max(0, b.deadlineAt - Date.now()));
  const probe = b.probeMs === undefined ? undefined : setTimeout(() => !guestSpoke && stop('kvm'), b.probeMs);
  // an abort once the command runs asks it to stop (it writes the results of the labs it stops); QEMU is stopped
  // only if the guest has not ended by itself within STOP_GRACE_MS, or when the command had not started yet
  let grace: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (startedAt === undefined || exitCode !== undefined) return stop('abort');
    stopAsked = true;
    (child.stdio[CONSOLE_FD] as Writable | null)?.write(`${nonce} stop\n`);
    grace = setTimeout(() => stop('abort'), b.stopGraceMs ?? STOP_GRACE_MS);
  };
  b.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
    child.on('error', (err) => resolve({ code: null, signal: null, error: err.message }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(deadline);
  clearTimeout(grace);
  if (probe) clearTimeout(probe);
  b.signal?.removeEventListener('abort', onAbort);
  const totalMs = Date.now() - t0;
  const result: BootResult = {
    exitCode: exitCode ?? null,
    bootMs: (startedAt ?? Date.now()) - t0,
    ...(kernelBootMs !== undefined ? { kernelBootMs } : {}),
    totalMs,
    timedOut: stopped === 'deadline' && exitCode === undefined,
    aborted: stopped === 'abort' && exitCode === undefined,
    ...(stopAsked ? { stopAsked } : {}),
    tail,
  };
  if (exit.error) keep(exit.error);
  if (kvmTrouble) result.kvmTrouble = kvmTrouble;
  if (accel === 'kvm' && b.probeMs !== undefined && startedAt === undefined && !guestSpoke && stopped !== 'abort' && stopped !== 'deadline') {
    result.kvmFailed = kvmTrouble ?? (stopped === 'kvm' ? `no sign of the guest's init within ${b.probeMs} ms` : `QEMU ended (${exit.signal ?? `exit ${exit.code}`}) before the guest's init ran`);
  }
  if (result.kvmFailed) result.problem = `KVM could not run this kernel: ${result.kvmFailed}`;
  else if (result.exitCode === null) {
    result.problem = result.aborted ? 'stopped: the run was aborted'
      : result.timedOut ? `stopped at the deadline (${startedAt === undefined ? 'the guest had not started the command' : 'the command had not finished'})`
        : problem ?? kvmTrouble ?? `the guest ended (QEMU ${exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`}) without an exit code${exit.code === 125 ? ': its parent process was already gone' : ''}`;
  }
  return result;
}
