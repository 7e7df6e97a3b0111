// fin-ack-combined, run for real with its capture: what the server sent after the client's FIN, checked against
// the pcap itself and against the states ss showed.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/fin-ack-combined.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('fin-ack-combined', () => {
  it('closing at once sends one FIN+ACK and the client is in TIME-WAIT; closing later sends the ACK alone and ss shows FIN-WAIT-2', async () => {
    const r = await runForTest('fin-ack-combined', {}, { capture: true });
    const ev = evidenceOf(r, lab);
    expect(ev.captured).toBe(true);
    expect(r.captures?.[0].frames).toBeGreaterThan(0);
    // a busy machine can miss the delayed-ACK window; the lab tries up to 3 times and keeps each attempt's segments
    expect(ev.attempts.length).toBeLessThanOrEqual(3);
    expect(ev.attempts.slice(0, -1).every((a) => a === '. F.')).toBe(true);
    expect(ev.cases['at-once']).toMatchObject({ replies: ['F.'], combined: true, final: 'TIME-WAIT' });
    expect(ev.cases.later).toMatchObject({ replies: ['.', 'F.'], combined: false, between: 'FIN-WAIT-2', final: 'TIME-WAIT' });
    expect(ev.cases.later.separateAckMs).toBeGreaterThanOrEqual(ev.pause - 20);
    expect(snapshotNamed(r, "later: before the server's FIN").sockets.some((s) => s.state === 'FIN-WAIT-2')).toBe(true);
    expect(verdictOf(r, 'fin-ack-straight-to-time-wait')).toBe('confirmed');
  });

  it('without a capture the claim is inconclusive, and says why', async () => {
    const r = await runForTest('fin-ack-combined');
    expect(r.captures).toBeUndefined();
    expect(verdictOf(r, 'fin-ack-straight-to-time-wait')).toBe('inconclusive');
    expect(r.claims[0].observed).toMatch(/no packet capture/);
  });
});
