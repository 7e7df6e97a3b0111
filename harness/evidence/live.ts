// What the live report needs of a snapshot: the census of every socket, how many match the focus, and the
// first few of those. Sent instead of every record, a 30,000-socket snapshot costs the runner's IPC channel a
// few hundred bytes instead of megabytes of JSON (result.json still gets every record).
import { census, type SockFilter } from './census.ts';
import type { SockRecord, SsState } from './ss.ts';

export interface LiveView {
  /** sockets per state, over the whole snapshot */
  census: Partial<Record<SsState, number>>;
  /** how many sockets match the focus (all of them without one) */
  matched: number;
  /** the first `max` of those, in ss order */
  sockets: SockRecord[];
}

/**
 * filterSockets' test as a predicate, without splitting addresses: ss prints a port as plain decimal after the
 * address's last ':', so "port is N" is "the address ends with :N" (test/unit/live.test.ts holds them equal).
 */
export function focusTest(f: SockFilter): (s: SockRecord) => boolean {
  const states = f.state === undefined ? undefined : new Set<string>(typeof f.state === 'string' ? [f.state] : f.state);
  const any = f.port === undefined ? undefined : `:${f.port}`;
  const local = f.localPort === undefined ? undefined : `:${f.localPort}`;
  const peer = f.peerPort === undefined ? undefined : `:${f.peerPort}`;
  return (s) =>
    (!states || states.has(s.state)) &&
    (any === undefined || s.local.endsWith(any) || s.peer.endsWith(any)) &&
    (local === undefined || s.local.endsWith(local)) &&
    (peer === undefined || s.peer.endsWith(peer));
}

/** The live report's view of a snapshot: its census, and the first `max` sockets the focus picks. */
export function liveView(sockets: readonly SockRecord[], focus?: SockFilter, max = 12): LiveView {
  if (!focus) return { census: census(sockets), matched: sockets.length, sockets: sockets.slice(0, max) };
  const test = focusTest(focus);
  const picked: SockRecord[] = [];
  let matched = 0;
  for (const s of sockets) {
    if (!test(s)) continue;
    if (matched++ < max) picked.push(s);
  }
  return { census: census(sockets), matched, sockets: picked };
}
