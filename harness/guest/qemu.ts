// QEMU's command line for one guest, and starting it so it cannot outlive us: under `setpriv --pdeathsig
// KILL` (the kernel kills it when our process dies, SIGKILL included), in a process group of its own (a
// terminal's Ctrl-C reaches our CLI only), stdin closed, and the two serial ports on two socket pipes.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { FW_CFG_NAME } from './initramfs.ts';
import { toolPath } from '../kernel/exec.ts';

export interface QemuSetup {
  accel: 'kvm' | 'tcg';
  /** a PVH-capable ELF kernel or a bzImage */
  kernel: string;
  initramfs: string;
  share: string;
  /** the stage-2 script, handed over through fw_cfg */
  script: string;
  memoryMb?: number;
  cpus?: number;
}

/** fd numbers in the child: ttyS0 (console: kernel, init, markers) and ttyS1 (the command's output). */
export const CONSOLE_FD = 3;
export const OUTPUT_FD = 4;

/** QEMU's option syntax: a comma inside a value is written twice. */
export function qemuValue(s: string): string {
  return s.replace(/,/g, ',,');
}

export function defaultCpus(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * The kernel command line: quiet serial console, no reboot loop on a panic; no mitigations and no crypto
 * self-tests (a throwaway guest; emulated, the tests alone cost ~0.4 s of boot).
 */
export const KERNEL_APPEND = 'console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off cryptomgr.notests';

export function qemuArgs(q: QemuSetup): string[] {
  return [
    // q35: virtio-pci with MSI-X, so probing the devices does not evaluate the ACPI interrupt links (slow emulated)
    '-machine', 'q35', '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-nic', 'none',
    ...(q.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-m', String(q.memoryMb ?? 1024),
    '-smp', String(q.cpus ?? defaultCpus()),
    '-kernel', q.kernel,
    '-initrd', q.initramfs,
    '-append', KERNEL_APPEND,
    // security_model=none: files are read and written as the user running QEMU (works without root)
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${qemuValue(q.share)},mount_tag=share,security_model=none,multidevs=remap`,
    '-fw_cfg', `name=${FW_CFG_NAME},string=${qemuValue(q.script)}`,
    '-chardev', `socket,id=console,fd=${CONSOLE_FD}`, '-serial', 'chardev:console',
    '-chardev', `socket,id=output,fd=${OUTPUT_FD}`, '-serial', 'chardev:output',
  ];
}

/** Can this user open /dev/kvm for reading and writing? (Whether KVM can run this kernel is another matter.) */
export function kvmUsable(dev = '/dev/kvm'): boolean {
  try {
    accessSync(dev, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start QEMU. setpriv asks for PR_SET_PDEATHSIG, then a shell checks that its parent is still us (had we died
 * before that, the signal would never come) and execs QEMU, which keeps the setting.
 */
export function spawnQemu(q: QemuSetup): ChildProcess {
  const guard = 'if [ "$PPID" != "$1" ]; then exit 125; fi; shift; exec "$@"';
  return spawn('setpriv', ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', guard, 'sh', String(process.pid), 'qemu-system-x86_64', ...qemuArgs(q)], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, PATH: toolPath() },
  });
}

/** Stop QEMU: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export function stopQemu(child: ChildProcess, graceMs = 3000): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), graceMs);
  t.unref();
  child.once('close', () => clearTimeout(t));
}
