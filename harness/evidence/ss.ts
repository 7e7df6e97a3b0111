// Parse `ss -tanoH` (optionally with -p / -e) into typed socket records. Pure: no processes run here.

/** State names exactly as ss prints them for TCP sockets. */
export const SS_STATES = [
  'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT',
  'UNCONN', 'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING',
] as const;
export type SsState = (typeof SS_STATES)[number];

/** An address as ss prints it, split: host without brackets, optional %interface, port (or '*'). */
export interface Endpoint {
  host: string;
  port: number | '*';
  iface?: string;
}

/** A kernel timer from `timer:(name,remaining,retransmits)`. remainingMs is undefined when ss printed nothing. */
export interface SsTimer {
  name: string;
  remainingMs?: number;
  retransmits: number;
  raw: string;
}

/** One process holding the socket, from `users:(("name",pid=N,fd=M),...)` (ss -p). */
export interface SsUser {
  command: string;
  pid: number;
  fd: number;
}

export interface SockRecord {
  state: SsState;
  recvQ: number;
  sendQ: number;
  local: string;
  peer: string;
  timer?: SsTimer;
  users?: SsUser[];
  /** whatever ss printed after the addresses that we did not parse (e.g. -e's uid/ino/sk) */
  extra?: string;
}

const STATE_SET = new Set<string>(SS_STATES);

/** Split `host:port` as ss prints it: `127.0.0.1:9000`, `[::1]:80`, `*:22`, `0.0.0.0:*`, `[fe80::1]%eth0:22`. */
export function parseEndpoint(text: string): Endpoint {
  const cut = text.lastIndexOf(':');
  if (cut < 0) throw new Error(`not an address: ${text}`);
  let host = text.slice(0, cut);
  const portText = text.slice(cut + 1);
  let iface: string | undefined;
  const pct = host.lastIndexOf('%');
  if (pct >= 0 && !host.endsWith(']')) {
    iface = host.slice(pct + 1);
    host = host.slice(0, pct);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = portText === '*' ? '*' : Number(portText);
  if (port !== '*' && !Number.isInteger(port)) throw new Error(`bad port in address: ${text}`);
  return iface ? { host, port, iface } : { host, port };
}

/** ss's time format (print_ms_timer): `59sec`, `200ms`, `5.123ms` (5 s 123 ms), `1min5sec`, `12min`, or empty. */
export function parseSsDuration(text: string): number | undefined {
  if (text === '') return undefined;
  const m = /^(?:(\d+)min)?(?:(\d+)(sec|\.))?(?:(\d+)ms)?$/.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined && m[4] === undefined)) throw new Error(`bad ss duration: ${text}`);
  const min = Number(m[1] ?? 0);
  const sec = Number(m[2] ?? 0);
  const ms = Number(m[4] ?? 0);
  return (min * 60 + sec) * 1000 + ms;
}

/** Parse the body of `timer:(...)`. */
export function parseTimer(body: string): SsTimer {
  const parts = body.split(',');
  if (parts.length < 3) throw new Error(`bad ss timer: timer:(${body})`);
  return {
    name: parts[0],
    remainingMs: parseSsDuration(parts[1]),
    retransmits: Number(parts[2]),
    raw: `timer:(${body})`,
  };
}

function parseUsers(body: string): SsUser[] {
  const users: SsUser[] = [];
  const re = /\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)/g;
  for (let m = re.exec(body); m; m = re.exec(body)) users.push({ command: m[1], pid: Number(m[2]), fd: Number(m[3]) });
  return users;
}

/** Parse one line of `ss -tanH` / `-tanoH` / `-tanopH`; throws on a line that is not a TCP socket line. */
export function parseSsLine(line: string): SockRecord {
  const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
  if (!m) throw new Error(`unrecognised ss line: ${line}`);
  const [, state, recvQ, sendQ, local, peer, rest] = m;
  if (!STATE_SET.has(state)) throw new Error(`unknown ss state '${state}' in line: ${line}`);
  const rec: SockRecord = { state: state as SsState, recvQ: Number(recvQ), sendQ: Number(sendQ), local, peer };
  let extra = rest;
  const users = /users:\(((?:\("(?:[^"\\]|\\.)*",pid=\d+,fd=\d+\),?)*)\)/.exec(extra);
  if (users) {
    rec.users = parseUsers(users[1]);
    extra = extra.replace(users[0], '');
  }
  const timer = /timer:\(([^)]*)\)/.exec(extra);
  if (timer) {
    rec.timer = parseTimer(timer[1]);
    extra = extra.replace(timer[0], '');
  }
  extra = extra.trim().replace(/\s+/g, ' ');
  if (extra) rec.extra = extra;
  return rec;
}

/** Parse a whole `ss -tanoH` output (no header line); blank lines are ignored. */
export function parseSs(output: string): SockRecord[] {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^State\s+Recv-Q/.test(l))
    .map(parseSsLine);
}

/** Local or peer port of a record. */
export function portOf(address: string): number | '*' {
  return parseEndpoint(address).port;
}

/** Render a record the way ss would print it (for reports), aligned. */
export function formatRecord(r: SockRecord): string {
  const cols = [r.state.padEnd(10), String(r.recvQ).padStart(6), String(r.sendQ).padStart(6), r.local.padStart(22), r.peer.padEnd(22)];
  let s = `${cols[0]} ${cols[1]} ${cols[2]} ${cols[3]} ${cols[4]}`;
  if (r.users?.length) s += ` users:(${r.users.map((u) => `("${u.command}",pid=${u.pid},fd=${u.fd})`).join(',')})`;
  if (r.timer) s += ` ${r.timer.raw}`;
  return s.trimEnd();
}
