// TCP counters of any host of a topology. /proc/net/snmp and /proc/net/netstat (nstat's sources) show the
// namespace of the reading thread, so they are read synchronously while switched into the host's namespace
// (an async read would run after the switch back) and parsed by counters.ts like readCounters() does.
import { readFileSync } from 'node:fs';
import { parseProcNet, type Counters } from './counters.ts';
import type { Netns } from './topology.ts';

/** Every Tcp/TcpExt/Ip... counter as `ns` sees them: readCounters(), inside that namespace. */
export async function countersOf(ns: Netns): Promise<Counters> {
  const [snmp, netstat] = ns.within(() => ['snmp', 'netstat'].map((f) => readFileSync(`/proc/thread-self/net/${f}`, 'utf8')));
  return { ...parseProcNet(snmp), ...parseProcNet(netstat) };
}
