// Read a host's sockets: `ss -tanoH` (plus -p when the owning processes are wanted), parsed into records.
// With states or ports, ss hands the filter to the kernel (inet_diag's state mask and its bytecode port
// filter), so only the matching sockets are dumped, printed and parsed: a wait polling a few sockets among
// 30,000 costs a small fraction of a full read. A host that can stream has the output parsed as ss prints it.
// (npm run bench -- snapshot measures all of these against ss alone.)
import type { Host } from '../kernel/host.ts';
import type { SockFilter } from './census.ts';
import { parseSs, ssParser, type SockRecord, type SsState } from './ss.ts';

export interface ReadOptions {
  /** also ask ss for the owning processes (-p) */
  processes?: boolean;
  /** only sockets in one of these states (none or empty: every state) */
  states?: readonly SsState[];
  /** only sockets whose local or peer port is one of these */
  ports?: readonly number[];
  /** only sockets whose local port is one of these */
  localPorts?: readonly number[];
  /** only sockets whose peer port is one of these */
  peerPorts?: readonly number[];
}

/** ss's name for a state in a `state` filter (ss prints the state differently from how it takes it). */
export const SS_FILTER_STATE: Record<SsState, string> = {
  ESTAB: 'established',
  'SYN-SENT': 'syn-sent',
  'SYN-RECV': 'syn-recv',
  'FIN-WAIT-1': 'fin-wait-1',
  'FIN-WAIT-2': 'fin-wait-2',
  'TIME-WAIT': 'time-wait',
  UNCONN: 'closed',
  'CLOSE-WAIT': 'close-wait',
  'LAST-ACK': 'last-ack',
  LISTEN: 'listening',
  CLOSING: 'closing',
};

function checkPorts(name: string, ports: readonly number[] | undefined): readonly number[] {
  for (const p of ports ?? []) if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`readSockets: ${name} has ${p}, not a port`);
  return ports ?? [];
}

/** `( sport = :1 or sport = :2 )` and the like, as separate arguments */
function anyOf(fields: readonly string[], ports: readonly number[]): string[] {
  const terms = ports.flatMap((p) => fields.map((f) => [f, '=', `:${p}`]));
  return ['(', ...terms.flatMap((t, i) => (i === 0 ? t : ['or', ...t])), ')'];
}

/** The arguments of the ss command readSockets runs (exported for tests and the bench). */
export function ssArgs(o: ReadOptions = {}): string[] {
  const args = [o.processes ? '-tanopH' : '-tanoH'];
  const states = [...new Set(o.states ?? [])].sort();
  for (const s of states) args.push('state', SS_FILTER_STATE[s]);
  const groups: string[][] = [];
  const ports = checkPorts('ports', o.ports);
  const local = checkPorts('localPorts', o.localPorts);
  const peer = checkPorts('peerPorts', o.peerPorts);
  if (ports.length) groups.push(anyOf(['sport', 'dport'], ports));
  if (local.length) groups.push(anyOf(['sport'], local));
  if (peer.length) groups.push(anyOf(['dport'], peer));
  groups.forEach((g, i) => args.push(...(i === 0 ? g : ['and', ...g])));
  return args;
}

/**
 * The TCP sockets of the host's network namespace, as ss lists them now: every one, or (states, ports) only
 * those the kernel matches, in the order ss prints them. Without a filter this is the full `ss -tanoH`.
 */
export async function readSockets(host: Host, opts: ReadOptions = {}): Promise<SockRecord[]> {
  const states = new Set(opts.states ?? []);
  // asked for one state, ss prints no State column
  const parse = states.size === 1 ? { state: [...states][0] } : {};
  if (!canStream(host)) return parseSs(await host.exec('ss', ssArgs(opts)), parse);
  const parser = ssParser(parse);
  await host.stream('ss', ssArgs(opts), (text) => parser.push(text));
  return parser.end();
}

/**
 * A host that can also hand a command's output over as it arrives (kernel/stream.ts streamRun, run in the
 * host's namespace): readSockets then parses while ss is still printing.
 */
export interface StreamingHost extends Host {
  stream(file: string, args: readonly string[], onText: (text: string) => void): Promise<void>;
}

export function canStream(host: Host): host is StreamingHost {
  return typeof (host as Partial<StreamingHost>).stream === 'function';
}

/** The read options that let the kernel do a SockFilter's work (what it cannot express is left out). */
export function readOptionsFor(f: SockFilter): ReadOptions {
  const states = f.state === undefined ? [] : typeof f.state === 'string' ? [f.state] : [...f.state];
  return {
    ...(states.length ? { states } : {}),
    ...(f.port !== undefined ? { ports: [f.port] } : {}),
    ...(f.localPort !== undefined ? { localPorts: [f.localPort] } : {}),
    ...(f.peerPort !== undefined ? { peerPorts: [f.peerPort] } : {}),
  };
}
