// Parse `ss -tanoH` (optionally with -p / -e) into typed socket records. Pure: no processes run here.
import { parseFast } from './ss-fast.ts';
import { parseSsLineGeneral, type Endpoint, type SockRecord, type SsState } from './ss-record.ts';

export { SS_STATES, parseSsDuration, parseSsLineGeneral, parseTimer } from './ss-record.ts';
export type { Endpoint, SockRecord, SsState, SsTimer, SsUser } from './ss-record.ts';

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

/** whitespace other than spaces and newlines (ss never prints it; the fast path needs its absence) */
function plainSpaces(text: string): boolean {
  return !text.includes('\t') && !text.includes('\r') && !text.includes('\v') && !text.includes('\f');
}

/** Parse one line of `ss -tanH` / `-tanoH` / `-tanopH`; throws on a line that is not a TCP socket line. */
export function parseSsLine(line: string): SockRecord {
  return (!line.includes('\n') && plainSpaces(line) ? parseFast(line, 0, line.length) : undefined) ?? parseSsLineGeneral(line);
}

export interface ParseOptions {
  /** the output of `ss ... state <one state>`: ss prints no State column then; a line without one is in this state */
  state?: SsState;
}

/** A line the fast path left: through the regular expressions (given its state first if ss printed none). */
function general(line: string, only: SsState | undefined): SockRecord {
  return parseSsLineGeneral(only && /^\s*\d/.test(line) ? `${only} ${line}` : line);
}

/** Parse the lines of text[start, stop) into `out` (the last one may lack its newline). */
function parseLines(text: string, start: number, stop: number, out: SockRecord[], only: SsState | undefined): void {
  const plain = plainSpaces(start === 0 && stop === text.length ? text : text.slice(start, stop));
  while (start < stop) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end > stop) end = stop;
    const first = text.charCodeAt(start);
    // a line that starts with whitespace may be blank; a line that starts with S may be the header
    const skip = end === start || (first <= 32 && text.slice(start, end).trim() === '') || (first === 83 && /^State\s+Recv-Q/.test(text.slice(start, end)));
    if (!skip) out.push((plain ? parseFast(text, start, end, only) : undefined) ?? general(text.slice(start, end), only));
    start = end + 1;
  }
}

/** Parse a whole `ss -tanoH` output (no header line); blank lines are ignored. */
export function parseSs(output: string, o: ParseOptions = {}): SockRecord[] {
  const out: SockRecord[] = [];
  parseLines(output, 0, output.length, out, o.state);
  return out;
}

/** parseSs fed piece by piece, as the output arrives: the same records, most of them read before ss ends. */
export interface SsParser {
  push(text: string): void;
  end(): SockRecord[];
}

export function ssParser(o: ParseOptions = {}): SsParser {
  const out: SockRecord[] = [];
  let carry = ''; // the line the last piece ended inside
  return {
    push(text) {
      const last = text.lastIndexOf('\n');
      if (last < 0) {
        carry += text;
        return;
      }
      const first = text.indexOf('\n');
      const head = carry + text.slice(0, first);
      parseLines(head, 0, head.length, out, o.state);
      parseLines(text, first + 1, last, out, o.state);
      carry = text.slice(last + 1);
    },
    end() {
      parseLines(carry, 0, carry.length, out, o.state);
      carry = '';
      return out;
    },
  };
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
