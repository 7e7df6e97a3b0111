// Follow one connection's two ends in ss output: find, wait for and describe the socket with a given
// local/peer port pair, so state labs check "this connection, this end, this state" and not just "a state".
import type { LabContext } from './context.ts';
import { filterSockets } from './census.ts';
import { readSockets } from './host.ts';
import type { SnapshotRecord } from './result.ts';
import { formatRecord, type SockRecord, type SsState } from './ss.ts';
import { until } from './wait.ts';

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

/** Wait until this end is in `state` (polling ss); records a snapshot with `label`; returns its ss record. */
export async function waitForEnd(ctx: LabContext, end: End, state: SsState, o: { label?: string; timeoutMs?: number; progress?: boolean } = {}): Promise<SockRecord> {
  const found = await ctx.waitForSockets(`${state} for the ${end.name} end :${end.localPort} -> :${end.peerPort}`, { localPort: end.localPort, peerPort: end.peerPort, state }, o);
  return found[0];
}

/** Wait until ss no longer lists this end (closed); records a snapshot with `label`; returns ms waited. */
export async function waitForGone(ctx: LabContext, end: End, o: { timeoutMs?: number; label?: string; progress?: boolean } = {}): Promise<number> {
  const t0 = Date.now();
  await until<SockRecord[], SockRecord[]>(
    async () => {
      const all = await readSockets(ctx.host);
      return endIn(all, end) ? { done: false, last: all } : { done: true, value: all };
    },
    {
      what: `disappearance of the ${end.name} end :${end.localPort} -> :${end.peerPort}`,
      timeoutMs: o.timeoutMs ?? 3000,
      signal: ctx.signal,
      describe: (last) => (last ? describeEnd(last, end) : 'nothing'),
      onProgress: o.progress ? (ms, last) => ctx.progress(`waiting for the ${end.name} end to close: ${(ms / 1000).toFixed(0)} s (${last ? describeEnd(last, end) : ''})`) : undefined,
    },
  );
  const waited = Date.now() - t0;
  if (o.label) await ctx.snapshot(o.label, { focus: { localPort: end.localPort } });
  return waited;
}

/** "ESTAB :41000 -> :9000 timer:(on,200ms,1)" or "absent". */
export function describeEnd(snap: SnapshotRecord | readonly SockRecord[], end: End): string {
  const r = endIn(snap, end);
  return r ? formatRecord(r).replace(/\s+/g, ' ') : `${end.name} :${end.localPort} -> :${end.peerPort} absent`;
}
