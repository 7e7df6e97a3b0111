// Sysctls of the network namespace the calling thread is in: the one place that maps a name to /proc/sys.
// (The host is never touched: the runner only ever runs inside the lab's own namespaces.)
import { readFileSync, writeFileSync } from 'node:fs';

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

/** Write a value and return what the kernel reads back (it may clamp or reject it). */
export function writeSysctl(name: string, value: string): string {
  writeFileSync(sysctlPath(name), value);
  return readSysctl(name);
}
