// time-wait-fin-restart, run for real: the client's TIME-WAIT timer in the recorded reads, the server's
// retransmission and the ACKs the nft rule dropped.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-fin-restart.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-fin-restart', () => {
  it('the TIME-WAIT timer counts down, then goes back up when the server re-sends its FIN', async () => {
    const r = await runForTest('time-wait-fin-restart', { 'rto-ms': 2000 });
    expect(r.outcome, r.reason).toBe('ran'); // setup installs nft: a skip here is a failure
    const ev = evidenceOf(r, lab);
    const start = snapshotNamed(r, 'client in TIME-WAIT, server in LAST-ACK');
    expect(countIn(start, { state: 'TIME-WAIT' })).toBe(1);
    expect(countIn(start, { state: 'LAST-ACK' })).toBe(1);
    const timer = (label: string) => snapshotNamed(r, label).sockets.find((s) => s.state === 'TIME-WAIT')?.timer?.remainingMs;
    expect(ev.startMs).toBe(timer('client in TIME-WAIT, server in LAST-ACK'));
    expect(ev.lowMs).toBe(timer('client TIME-WAIT timer counted down'));
    expect(ev.lowMs!).toBeLessThan(ev.startMs!);
    expect(ev.upMs).toBe(timer('client TIME-WAIT timer back up'));
    expect(ev.upMs!).toBeGreaterThan(ev.lowMs!);
    // the server was still in LAST-ACK when the timer went back up: its re-sent FIN did it
    expect(countIn(snapshotNamed(r, 'client TIME-WAIT timer back up'), { state: 'LAST-ACK' })).toBe(1);
    expect(ev.retrans).toBeGreaterThanOrEqual(1);
    expect(ev.dropped).toBeGreaterThanOrEqual(2);
    expect(verdictOf(r, 'fin-restarts-timer')).toBe('confirmed');
  });
});
