// all-states, run for real: every state in the snapshot named after it, on the end the evidence names.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/all-states.ts';
import { eventsOf, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('all-states', () => {
  it('proves every state from a snapshot recorded while it was held', async () => {
    const r = await runForTest('all-states');
    const { proofs } = evidenceOf(r, lab);
    expect(proofs.map((p) => p.state)).toEqual(['CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECV', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT']);
    for (const p of proofs.filter((x) => x.state !== 'CLOSED')) {
      expect(p.seen, p.state).toBe(p.state);
      // the ss line quoted as proof is in the snapshot it names
      expect(snapshotNamed(r, p.snapshot).sockets.some((s) => s.state === p.state && p.line!.includes(s.local) && p.line!.includes(s.peer)), p.state).toBe(true);
    }
    const lastAck = snapshotNamed(r, 'LAST-ACK').sockets.find((s) => s.state === 'LAST-ACK')!;
    expect(snapshotNamed(r, 'CLOSED').sockets.some((s) => s.local === lastAck.local && s.peer === lastAck.peer)).toBe(false);
    expect(eventsOf(r, 'fault', { op: 'lift' }).length).toBe(eventsOf(r, 'fault', { op: 'install' }).length);
    expect(verdictOf(r, 'eleven-states')).toBe('confirmed');
  });
});
