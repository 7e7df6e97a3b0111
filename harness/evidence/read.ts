// Read a host's sockets: `ss -tanoH` (plus -p when the owning processes are wanted), parsed into records.
import type { Host } from '../kernel/host.ts';
import { parseSs, type SockRecord } from './ss.ts';

/** Every TCP socket of the host's network namespace, as ss lists it now. */
export async function readSockets(host: Host, opts: { processes?: boolean } = {}): Promise<SockRecord[]> {
  const flags = opts.processes ? '-tanopH' : '-tanoH';
  return parseSs(await host.exec('ss', [flags]));
}
