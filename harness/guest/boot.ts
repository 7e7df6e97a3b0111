// Run one command inside a QEMU guest booted from a cached kernel, in the host's folder, with the host's
// root read-only (a tmpfs overlay on top) and one folder shared writable at the same path. KVM when it can
// run the kernel, emulation (TCG) otherwise; what worked is remembered per guest and host kernel.
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { quote, UserError } from '../errors.ts';
import { toolPath } from '../kernel/exec.ts';
import { accelFinding, recordAccel, type KernelEntry } from './cache.ts';
import { bootOnce, type BootResult } from './launch.ts';
import { guestPreflight } from './preflight.ts';
import { kvmUsable } from './qemu.ts';

export { guestPreflight } from './preflight.ts';

export interface GuestRun {
  kernel: KernelEntry;
  command: string[];
  /** folder the command runs in (the same path inside) */
  cwd: string;
  /** host folder the guest may write, mounted at the same path */
  share: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  memoryMb?: number;
  cpus?: number;
  /** the whole run, boot and fallback included */
  deadlineMs: number;
  signal?: AbortSignal;
  /** after an abort, how long the command gets to stop its labs and write their results (default 60 s) */
  stopGraceMs?: number;
  /** added to PATH (the host's, with the sbin folders), HOME and TCP_LAB_RAN_ON */
  env?: Record<string, string>;
  /** the command's output, line by line (stdout and stderr together) */
  onLine?: (line: string) => void;
}

/** What a guest run came to: the boot's figures (launch.ts BootResult, the command's exit code first), and how it ran. */
export interface GuestOutcome extends Omit<BootResult, 'kvmFailed' | 'kvmTrouble'> {
  how: 'kvm' | 'emulated';
  /** set when KVM was tried first and failed: why (the run then went on emulated) */
  kvmFallback?: string;
}

/** How long a KVM trial may go without a sign of our init before we call KVM broken for this kernel. */
export const KVM_PROBE_MS = 20_000;

function hostFolder(p: string, what: string): string {
  const abs = path.resolve(p);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UserError(`${what} ${quote(p)} is not a folder on this machine`);
  return realpathSync(abs);
}

/**
 * The command's program as an absolute path, found on the guest's PATH here (the guest's root is this
 * machine's): Debian's static busybox prefers its own applets to PATH, so a bare `sh` or `ip` would run those.
 */
export function resolveProgram(program: string, pathVar: string, cwd: string): string {
  if (program.includes('/')) return path.resolve(cwd, program);
  for (const dir of pathVar.split(':').filter((d) => d.startsWith('/'))) {
    const p = path.join(dir, program);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* keep looking */
    }
  }
  throw new UserError(`${quote(program)} is not a program on the guest's PATH`);
}

function outcome(r: BootResult, accel: 'kvm' | 'tcg', t0: number, kvmFallback?: string): GuestOutcome {
  const { kvmFailed: _failed, kvmTrouble: _trouble, ...rest } = r;
  return { ...rest, how: accel === 'kvm' ? 'kvm' : 'emulated', totalMs: Date.now() - t0, ...(kvmFallback ? { kvmFallback } : {}) };
}

export async function runInGuest(r: GuestRun): Promise<GuestOutcome> {
  const t0 = Date.now();
  await guestPreflight();
  const share = hostFolder(r.share, 'the shared folder');
  if (share === '/') throw new UserError('the shared folder cannot be / (the root is shared read-only already)');
  const cwd = hostFolder(r.cwd, 'the folder to run in');
  const env = { PATH: toolPath(), HOME: process.env.HOME ?? '/root', ...r.env };
  if (!r.command.length) throw new UserError('a guest needs a command to run');
  const req = {
    kernel: r.kernel,
    command: [resolveProgram(r.command[0], env.PATH, cwd), ...r.command.slice(1)],
    cwd,
    share,
    env,
    memoryMb: r.memoryMb,
    cpus: r.cpus,
    deadlineAt: t0 + r.deadlineMs,
    signal: r.signal,
    stopGraceMs: r.stopGraceMs,
    onLine: r.onLine,
  };
  const choice = r.accel ?? 'auto';
  if (choice === 'kvm' && !kvmUsable()) throw new UserError('--accel kvm: /dev/kvm is missing or not readable and writable for this user; use --accel tcg or auto');
  if (r.signal?.aborted) return { exitCode: null, how: choice === 'kvm' ? 'kvm' : 'emulated', bootMs: 0, totalMs: 0, timedOut: false, aborted: true, tail: [], problem: 'stopped before the guest started' };
  // --accel kvm gets the same trial deadline, so a KVM that cannot run the kernel fails fast instead of at the deadline
  if (choice !== 'auto') return outcome(await bootOnce({ ...req, ...(choice === 'kvm' ? { probeMs: KVM_PROBE_MS } : {}) }, choice), choice, t0);
  const known = await accelFinding(r.kernel.release);
  if (known?.accel === 'tcg' || !kvmUsable()) return outcome(await bootOnce(req, 'tcg'), 'tcg', t0);
  const trial = await bootOnce({ ...req, probeMs: KVM_PROBE_MS }, 'kvm');
  if (!trial.kvmFailed) {
    // KVM that fails once the command runs is not run again (the command may have done half its work): noted for next time
    if (trial.kvmTrouble) await recordAccel(r.kernel.release, 'tcg', `KVM failed while the command ran: ${trial.kvmTrouble}`);
    else if (!known && trial.kernelBootMs !== undefined) await recordAccel(r.kernel.release, 'kvm');
    return outcome(trial, 'kvm', t0);
  }
  await recordAccel(r.kernel.release, 'tcg', `KVM failed: ${trial.kvmFailed}`);
  return outcome(await bootOnce(req, 'tcg'), 'tcg', t0, trial.kvmFailed);
}
