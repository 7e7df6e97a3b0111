// The records `ss -tanoH` is parsed into, and the general line parser (regular expressions: any spacing,
// users:(...) from -p, fields it does not know kept as `extra`). ss.ts is the API; ss-fast.ts reads the
// common line faster and must give the same records.

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

const DURATION = /^(?:(\d+)min)?(?:(\d+)(sec|\.))?(?:(\d+)ms)?$/;
/** durations seen so far: a big dump repeats a few dozen texts (TIME-WAIT's 59sec, 58sec ...) thousands of times */
const durations = new Map<string, number>();

/** ss's time format (print_ms_timer): `59sec`, `200ms`, `5.123ms` (5 s 123 ms), `1min5sec`, `12min`, or empty. */
export function parseSsDuration(text: string): number | undefined {
  if (text === '') return undefined;
  const known = durations.get(text);
  if (known !== undefined) return known;
  const m = DURATION.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined && m[4] === undefined)) throw new Error(`bad ss duration: ${text}`);
  const min = Number(m[1] ?? 0);
  const sec = Number(m[2] ?? 0);
  const ms = Number(m[4] ?? 0);
  const total = (min * 60 + sec) * 1000 + ms;
  if (durations.size < 4096) durations.set(text, total);
  return total;
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

/**
 * The general parser (regular expressions): any whitespace, users:(...) and fields it does not know (kept as
 * `extra`). parseSsLine gives the same record for every line, faster (test/unit/ss-fast.test.ts compares them).
 */
export function parseSsLineGeneral(line: string): SockRecord {
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

