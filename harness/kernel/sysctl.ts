// Sysctls of the network namespace the calling thread is in: the one place that maps a name to /proc/sys.
// (The host is never touched: the runner only ever runs inside the lab's own namespaces.)
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { LabSkip } from '../errors.ts';

/** net.ipv4.tcp_fin_timeout → /proc/sys/net/ipv4/tcp_fin_timeout */
export function sysctlPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

/** The current value, whitespace collapsed ("32768 60999"); throws ENOENT if this kernel has no such sysctl. */
export function readSysctl(name: string): string {
  return readFileSync(sysctlPath(name), 'utf8').trim().replace(/\s+/g, ' ');
}

/** Does this kernel have the sysctl at all (e.g. tcp_tw_recycle, removed in 4.12)? */
export function hasSysctl(name: string): boolean {
  try {
    readSysctl(name);
    return true;
  } catch {
    return false;
  }
}

/** Write a value and return what the kernel reads back (it may clamp or reject it); errno as thrown by write(2). */
export function writeSysctl(name: string, value: string): string {
  writeFileSync(sysctlPath(name), value);
  return readSysctl(name);
}

/**
 * writeSysctl for a lab's set-up: a sysctl this kernel does not have (tcp_rto_min_us before 6.11, say) is a
 * LabSkip, not an error, so the claims that rest on it are inconclusive with that reason.
 */
export function setUpSysctl(name: string, value: string): string {
  try {
    return writeSysctl(name, value);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LabSkip(`this kernel (${release()}) has no ${name}, which the lab sets`);
    throw err;
  }
}
