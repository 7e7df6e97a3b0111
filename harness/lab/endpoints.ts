// Follow one connection's two ends in ss output: find, wait for and describe the socket with a given
// local/peer port pair, so state labs check "this connection, this end, this state" and not just "a state".
import type { LabContext } from './context.ts';
import { WaitTimeout } from '../errors.ts';
import { filterSockets } from '../evidence/census.ts';
import { readSockets } from '../evidence/read.ts';
import type { SnapshotRecord } from '../evidence/records.ts';
import { formatRecord, type SockRecord, type SsState } from '../evidence/ss.ts';

/** One end of a connection as ss shows it: its own port and its peer's port. */
export interface End {
  /** "client" / "server" / "closer" ... for messages */
  name: string;
  localPort: number;
  peerPort: number;
}

/** The two ends of a loopback connection between a client port and a server port. */
export function endsOf(clientPort: number, serverPort: number): { client: End; server: End } {
  return {
    client: { name: 'client', localPort: clientPort, peerPort: serverPort },
    server: { name: 'server', localPort: serverPort, peerPort: clientPort },
  };
}

/** This end's socket in a snapshot (undefined if ss does not list it: closed, or never there). */
export function endIn(snap: SnapshotRecord | readonly SockRecord[], end: End): SockRecord | undefined {
  const sockets = 'sockets' in snap ? snap.sockets : snap;
  return filterSockets(sockets, { localPort: end.localPort, peerPort: end.peerPort })[0];
}

/** Its state in a snapshot, or 'absent'. */
export function stateIn(snap: SnapshotRecord | readonly SockRecord[], end: End): SsState | 'absent' {
  return endIn(snap, end)?.state ?? 'absent';
}

export interface EndWaitOptions {
  /** record the read that satisfied the wait under this label */
  label?: string;
  timeoutMs?: number;
  /** show a progress line (with this end's ss line) while waiting */
  progress?: boolean;
}

/**
 * Wait until this end is in `state` (polling ss); returns the read that showed it (recorded when labelled). If the
 * wait times out while the end's retransmission timer is still pending (pastItsTimer), it waits for that timer too.
 */
export function waitForEnd(ctx: LabContext, end: End, state: SsState, o: EndWaitOptions = {}): Promise<SnapshotRecord> {
  return pastItsTimer(ctx, end, o.timeoutMs ?? 2000, (timeoutMs) =>
    ctx.waitSs(`${state} for the ${end.name} end :${end.localPort} -> :${end.peerPort}`, (read) => stateIn(read, end) === state, {
      ...endWaitOptions(end, o),
      filter: { localPort: end.localPort, peerPort: end.peerPort },
      focus: { localPort: end.localPort, peerPort: end.peerPort },
      timeoutMs,
    }));
}

/** Wait until ss no longer lists this end (closed); returns the read that showed it gone (recorded when labelled). Timer as waitForEnd. */
export function waitForGone(ctx: LabContext, end: End, o: EndWaitOptions = {}): Promise<SnapshotRecord> {
  return pastItsTimer(ctx, end, o.timeoutMs ?? 3000, (timeoutMs) =>
    ctx.waitSs(`disappearance of the ${end.name} end :${end.localPort} -> :${end.peerPort}`, (read) => !endIn(read, end), {
      ...endWaitOptions(end, o),
      filter: { localPort: end.localPort, peerPort: end.peerPort },
      focus: { localPort: end.localPort },
      timeoutMs,
    }));
}

/**
 * Run an end wait; if it times out while ss shows the end's retransmission timer still pending (a held FIN, LAST-ACK's
 * FIN: the next state comes only when that timer fires, and its backoff grew while the harness held the state, by
 * as much more as the harness is slower), wait once more for what the timer has left plus the same timeout. Noted.
 */
async function pastItsTimer(ctx: LabContext, end: End, timeoutMs: number, wait: (timeoutMs: number) => Promise<SnapshotRecord>): Promise<SnapshotRecord> {
  try {
    return await wait(timeoutMs);
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    const r = endIn(await readSockets(ctx.host, { localPorts: [end.localPort], peerPorts: [end.peerPort] }), end);
    const left = r?.timer?.name === 'on' ? r.timer.remainingMs : undefined;
    if (left === undefined) throw err;
    ctx.note(`the ${end.name} end's retransmission timer was still pending (${r!.timer!.raw}) when the wait ran out: waiting for it`);
    return wait(left + timeoutMs);
  }
}

/** The ctx.waitSs options both end waits share: label, timeout and progress text naming this end. */
function endWaitOptions(end: End, o: EndWaitOptions) {
  const seen = (last: SockRecord[] | undefined) => (last ? describeEnd(last, end) : 'nothing read');
  return {
    label: o.label,
    describe: seen,
    progress: o.progress ? (ms: number, last: SockRecord[] | undefined) => `waiting on the ${end.name} end: ${(ms / 1000).toFixed(0)} s (${seen(last)})` : undefined,
  };
}

/** "ESTAB :41000 -> :9000 timer:(on,200ms,1)" or "absent". */
export function describeEnd(snap: SnapshotRecord | readonly SockRecord[], end: End): string {
  const r = endIn(snap, end);
  return r ? formatRecord(r).replace(/\s+/g, ' ') : `${end.name} :${end.localPort} -> :${end.peerPort} absent`;
}
