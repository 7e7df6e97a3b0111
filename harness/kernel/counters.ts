// Per-namespace TCP counters (/proc/net/snmp "Tcp:" and /proc/net/netstat "TcpExt:"): read them before and
// after a step and use the deltas as evidence of what the kernel sent (RSTs, aborts, timeouts).
import { readFile } from 'node:fs/promises';

/** Counter values keyed "Group.Name", e.g. "Tcp.OutRsts", "TcpExt.TCPAbortOnData". */
export type Counters = Record<string, number>;

/** Parse the header/value line pairs of /proc/net/snmp or /proc/net/netstat. */
export function parseProcNet(text: string): Counters {
  const out: Counters = {};
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [hGroup, ...names] = lines[i].trim().split(/\s+/);
    const [vGroup, ...values] = lines[i + 1].trim().split(/\s+/);
    if (hGroup !== vGroup || !hGroup.endsWith(':')) throw new Error(`unexpected /proc/net line pair: '${lines[i]}' / '${lines[i + 1]}'`);
    if (names.length !== values.length) throw new Error(`${hGroup} has ${names.length} names but ${values.length} values`);
    const group = hGroup.slice(0, -1);
    names.forEach((n, j) => (out[`${group}.${n}`] = Number(values[j])));
  }
  return out;
}

/** Read every counter of this process's network namespace (both files). */
export async function readCounters(): Promise<Counters> {
  const [snmp, netstat] = await Promise.all([readFile('/proc/net/snmp', 'utf8'), readFile('/proc/net/netstat', 'utf8')]);
  return { ...parseProcNet(snmp), ...parseProcNet(netstat) };
}

/** after - before for the named counters (all counters that changed when names is omitted). */
export function counterDelta(before: Counters, after: Counters, names?: readonly string[]): Counters {
  const keys = names ?? Object.keys(after).filter((k) => after[k] !== before[k]);
  const out: Counters = {};
  for (const k of keys) out[k] = (after[k] ?? 0) - (before[k] ?? 0);
  return out;
}

/** "Tcp.OutRsts +1, TcpExt.TCPAbortOnClose +1" (zero deltas left out unless nothing changed). */
export function formatDelta(d: Counters): string {
  const parts = Object.entries(d).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`);
  return parts.length ? parts.join(', ') : 'no change';
}

/** The counters the reset/abort labs look at. */
export const RESET_COUNTERS = [
  'Tcp.OutRsts', 'Tcp.EstabResets', 'Tcp.AttemptFails',
  'TcpExt.TCPAbortOnData', 'TcpExt.TCPAbortOnClose', 'TcpExt.TCPAbortOnLinger', 'TcpExt.TCPAbortOnTimeout',
  'TcpExt.TCPAbortOnMemory', 'TcpExt.TCPAbortFailed',
] as const;

/** The counters that say why a socket is not where it was expected: resets, aborts, retransmissions, TIME-WAIT overflow. */
export const LOSS_COUNTERS = [
  'Tcp.OutRsts', 'Tcp.RetransSegs', 'TcpExt.TCPTimeouts', 'TcpExt.TCPTimeWaitOverflow',
  'TcpExt.TCPAbortOnClose', 'TcpExt.TCPAbortOnData', 'TcpExt.TCPAbortOnMemory',
] as const;
