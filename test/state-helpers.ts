// Shared by the state-lab tests: read one connection end's state out of a recorded snapshot, independently
// of the lab's own helpers.
import type { SnapshotRecord } from '../harness/evidence/records.ts';

/** The state of the socket local:lp peer:pp in the snapshot, or 'absent'. */
export function stateAt(s: SnapshotRecord, lp: number, pp: number): string {
  const r = s.sockets.find((x) => x.local.endsWith(`:${lp}`) && x.peer.endsWith(`:${pp}`));
  return r?.state ?? 'absent';
}

/** The socket record local:lp peer:pp in the snapshot. */
export function sockAt(s: SnapshotRecord, lp: number, pp: number) {
  return s.sockets.find((x) => x.local.endsWith(`:${lp}`) && x.peer.endsWith(`:${pp}`));
}

/** Port number from an ss address. */
export function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}
