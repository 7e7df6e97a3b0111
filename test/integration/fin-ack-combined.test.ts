// fin-ack-combined, run for real with its capture: what the server sent after the client's FIN, checked against
// the pcap itself and against the states ss showed.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/fin-ack-combined.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('fin-ack-combined', () => {
  it('the FIN+ACK that reaches the client takes it to TIME-WAIT; closing later sends the ACK alone and ss shows FIN-WAIT-2', async () => {
    const r = await runForTest('fin-ack-combined', {}, { capture: true });
    const ev = evidenceOf(r, lab);
    expect(ev.captured).toBe(true);
    expect(r.captures?.[0].frames).toBeGreaterThan(0);
    // the server's bare ACKs (if it was slower than the delayed-ACK timer) were dropped: the FIN+ACK is what arrived
    const now = ev.cases['at-once'];
    expect(now).toMatchObject({ combined: true, final: 'TIME-WAIT' });
    expect(now.replies).toEqual([...Array(now.acksDropped).fill('. (dropped)'), 'F.']);
    expect(ev.cases.later).toMatchObject({ replies: ['.', 'F.'], combined: false, acksDropped: 0, between: 'FIN-WAIT-2', final: 'TIME-WAIT' });
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
