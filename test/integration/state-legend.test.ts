// state-legend, run for real: the states and timers each legend line is judged from, in the snapshots they are
// read from; the capture dates the final ACK, and without it that one figure is missing, not guessed.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/state-legend.ts';
import { eventsOf, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const VERDICTS = { 'fin-wait-1-app-done': 'confirmed', 'fin-wait-2-peer-agreed': 'confirmed', 'fin-waits-wait-for-fin': 'partly', 'time-wait-peer-began': 'refuted', 'last-ack-packets-die': 'refuted' };

describe('state-legend', () => {
  it('holds each close step, and LAST-ACK re-sends its FIN under a retransmission timer and ends on the ACK', async () => {
    const r = await runForTest('state-legend', {}, { capture: true });
    const ev = evidenceOf(r, lab);
    const states = (label: string) => snapshotNamed(r, label).sockets.map((s) => s.state).filter((s) => s !== 'LISTEN').sort();
    expect(states('FIN-WAIT-1: the ACK of its FIN dropped')).toEqual(['CLOSE-WAIT', 'FIN-WAIT-1']);
    expect(states('FIN-WAIT-2: the ACK let through')).toEqual(['CLOSE-WAIT', 'FIN-WAIT-2']);
    const held = snapshotNamed(r, 'LAST-ACK: its FIN re-sent').sockets;
    const lastAck = held.find((s) => s.state === 'LAST-ACK')!;
    expect(lastAck.timer?.name).toBe('on');
    expect(lastAck.timer!.retransmits).toBeGreaterThanOrEqual(1);
    expect(ev.la.finsSent).toBe(1 + lastAck.timer!.retransmits);
    expect(held.find((s) => s.state === 'TIME-WAIT')?.timer?.name).toBe('timewait');
    // gone once the ACK got through, while the client's TIME-WAIT stays
    const gone = snapshotNamed(r, 'LAST-ACK: gone once the ACK got through').sockets;
    expect(gone.some((s) => s.local === lastAck.local && s.peer === lastAck.peer)).toBe(false);
    expect(gone.some((s) => s.state === 'TIME-WAIT' && s.local === lastAck.peer)).toBe(true);
    expect(ev.lastAcksDropped).toBeGreaterThanOrEqual(1);
    expect(r.captures?.[0].frames).toBeGreaterThan(0);
    expect(ev.end.ackToGoneMs).toBeGreaterThanOrEqual(0);
    expect(ev.end.ackToGoneMs).toBeLessThan(500);
    // a FIN without the ACK of its own: CLOSING, and the server (whose FIN the client acknowledged) in FIN-WAIT-2
    expect(ev.crossed).toMatchObject({ client: 'CLOSING', server: 'FIN-WAIT-2' });
    expect(ev.crossed.finsLost).toBeGreaterThanOrEqual(1);
    expect(eventsOf(r, 'fault', { op: 'lift' }).length).toBe(eventsOf(r, 'fault', { op: 'install' }).length);
    for (const [id, v] of Object.entries(VERDICTS)) expect(verdictOf(r, id), id).toBe(v);
  });

  it('without a capture the final ACK is not dated, and the verdicts stand on the rest', async () => {
    const r = await runForTest('state-legend');
    expect(r.captures).toBeUndefined();
    expect(evidenceOf(r, lab).end.ackToGoneMs).toBeUndefined();
    expect(r.claims.find((c) => c.id === 'last-ack-packets-die')!.observed).toMatch(/in the capture\) to ss no longer listing the socket: not observed/);
    for (const [id, v] of Object.entries(VERDICTS)) expect(verdictOf(r, id), id).toBe(v);
  });
});
