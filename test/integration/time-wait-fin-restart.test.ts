// time-wait-fin-restart: "confirmed" only if the recorded countdown really went back up while the nft rule
// had dropped the final ACK and the re-ACK of a repeated FIN.
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-fin-restart', () => {
  it('shows the TIME-WAIT timer restarting on a retransmitted FIN', async () => {
    const r = await runForTest('time-wait-fin-restart', { port: 9310 });
    if (r.outcome === 'skipped') return; // no nft on this machine: the lab says so itself
    const start = snapshotNamed(r, 'client in TIME-WAIT, server in LAST-ACK');
    expect(countIn(start, { peerPort: 9310, state: 'TIME-WAIT' })).toBe(1);
    expect(countIn(start, { localPort: 9310, state: 'LAST-ACK' })).toBe(1);
    const table = r.tables[0];
    const timers = table.rows.map((row) => (row[1] === 'gone' ? undefined : Number(row[1].replace(' s', ''))));
    const wentUp = timers.some((t, i) => i > 0 && t !== undefined && timers[i - 1] !== undefined && t > timers[i - 1]!);
    const [lift] = eventsOf(r, 'fault', { op: 'lift' });
    const droppedTwice = (lift.data!.packets as number) >= 2;
    expect(verdictOf(r, 'fin-restarts-timer') === 'confirmed').toBe(wentUp && droppedTwice);
    expect(eventsOf(r, 'restart').length > 0).toBe(wentUp);
  });
});
