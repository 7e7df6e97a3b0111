// TCP counters of any host of a topology (nstat's sources, /proc/net/snmp and /proc/net/netstat, are per
// network namespace, so they are read from inside the host's namespace).
import { parseProcNet, type Counters } from './counters.ts';
import type { Host } from './host.ts';

/** Every Tcp/TcpExt/Ip... counter as the host's own namespace sees them. */
export async function countersOf(host: Host): Promise<Counters> {
  const [snmp, netstat] = await Promise.all([host.exec('cat', ['/proc/net/snmp']), host.exec('cat', ['/proc/net/netstat'])]);
  return { ...parseProcNet(snmp), ...parseProcNet(netstat) };
}
