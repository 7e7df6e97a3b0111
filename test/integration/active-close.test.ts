// active-close, run for real: the states of both ends at each held step, for both closers.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/active-close.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('active-close', () => {
  it('walks the four-way close with each side closing first, and FIN-WAIT-1 goes straight to TIME-WAIT on a FIN+ACK', async () => {
    const r = await runForTest('active-close');
    const ev = evidenceOf(r, lab);
    for (const s of ev.seqs) {
      const e = s.evidence!;
      expect([e.fw1, e.fw2, e.lastAck, e.closed], s.closer).toEqual(['FIN-WAIT-1 / CLOSE-WAIT', 'FIN-WAIT-2 / CLOSE-WAIT', 'TIME-WAIT / LAST-ACK', 'TIME-WAIT / absent']);
      expect(e.lateAll).toBe(true);
      expect(countIn(snapshotNamed(r, `${s.closer} closes: TIME-WAIT / LAST-ACK`), { state: 'LAST-ACK' })).toBe(1);
    }
    // the server-first TIME-WAIT sits on the server's own (listening) port
    const tw = snapshotNamed(r, 'server closes: closed').sockets.filter((x) => x.state === 'TIME-WAIT');
    expect(tw.some((x) => snapshotNamed(r, 'server closes: closed').sockets.some((l) => l.state === 'LISTEN' && l.local === x.local))).toBe(true);
    expect(ev.shortcut).toMatchObject({ before: 'FIN-WAIT-1', after: 'TIME-WAIT' });
    expect(ev.shortcut.pureAcksDropped).toBeGreaterThanOrEqual(1);
    expect(ev.shortcut.fins).toBeGreaterThanOrEqual(1);
    for (const id of ['fin-wait-1', 'fin-wait-2-half-open', 'close-wait', 'last-ack', 'time-wait-on-closer', 'active-not-client', 'fin-wait-1-to-time-wait']) expect(verdictOf(r, id), id).toBe('confirmed');
  });
});
