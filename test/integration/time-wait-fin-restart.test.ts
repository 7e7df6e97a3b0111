// time-wait-fin-restart: the verdict must follow from the client's TIME-WAIT timer in the recorded reads (lower
// than at the start, then higher again), the server's retransmission counter and the ACKs the nft rule dropped.
import { describe, expect, it } from 'vitest';
import type { LabResult, SnapshotRecord } from '../../harness/evidence/records.ts';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const PORT = 9310;
const maybe = (r: LabResult, label: string): SnapshotRecord | undefined => r.snapshots.find((s) => s.label === label);
/** the client's TIME-WAIT timer (ms left) in a read, if it still had one */
const twTimer = (s: SnapshotRecord | undefined) => s?.sockets.find((x) => x.state === 'TIME-WAIT' && x.peer.endsWith(`:${PORT}`))?.timer?.remainingMs;

describe('time-wait-fin-restart', () => {
  it('shows the TIME-WAIT timer restarting on a retransmitted FIN', async () => {
    const r = await runForTest('time-wait-fin-restart', { port: PORT });
    expect(r.outcome, r.reason).toBe('ran'); // setup installs nft: a skip here is a failure
    const start = snapshotNamed(r, 'client in TIME-WAIT, server in LAST-ACK');
    expect(countIn(start, { peerPort: PORT, state: 'TIME-WAIT' })).toBe(1);
    expect(countIn(start, { localPort: PORT, state: 'LAST-ACK' })).toBe(1);

    const startMs = twTimer(start);
    const lowMs = twTimer(maybe(r, 'client TIME-WAIT timer counted down'));
    const upRead = maybe(r, 'client TIME-WAIT timer back up') ?? maybe(r, 'client TIME-WAIT timer never went back up');
    const upMs = twTimer(upRead);
    const countedDown = startMs !== undefined && lowMs !== undefined && lowMs < startMs;
    const wentUp = countedDown && upMs !== undefined && upMs > lowMs!;
    if (wentUp) {
      // the server was still in LAST-ACK (its re-sent FIN's ACK was dropped too) when the timer went back up
      expect(countIn(upRead!, { localPort: PORT, state: 'LAST-ACK' })).toBe(1);
    }

    const [lift] = eventsOf(r, 'fault', { op: 'lift' });
    const dropped = lift.data!.packets as number;
    const retrans = (eventsOf(r, 'counters')[0].data!['Tcp.RetransSegs'] as number | undefined) ?? 0;
    const resent = retrans >= 1 && dropped >= 2;
    const expected = !resent ? 'inconclusive' : !countedDown ? 'inconclusive' : wentUp ? 'confirmed' : 'refuted';
    expect(verdictOf(r, 'fin-restarts-timer')).toBe(expected);
    expect(eventsOf(r, 'restart').length > 0).toBe(expected === 'confirmed');
  });
});
