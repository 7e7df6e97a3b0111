// closed-peer-rst, run for real: no TIME-WAIT, the server's re-sent FIN, and the RST that answers it.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/closed-peer-rst.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('closed-peer-rst', () => {
  it('with no TIME-WAIT, the re-sent FIN meets no socket and draws an RST', async () => {
    const r = await runForTest('closed-peer-rst');
    const ev = evidenceOf(r, lab);
    const la = snapshotNamed(r, 'server LAST-ACK, client already CLOSED');
    expect(countIn(la, { state: 'LAST-ACK' })).toBe(1);
    expect(countIn(la, { state: ['TIME-WAIT', 'FIN-WAIT-2'] })).toBe(0);
    expect(ev.overflow).toBe(1);
    expect(ev.retrans).toBeGreaterThanOrEqual(1);
    expect(ev.rsts).toBeGreaterThanOrEqual(1);
    expect(ev.serverGoneAfterMs).toBeLessThan(3000);
    expect(verdictOf(r, 'closed-answers-fin-with-rst')).toBe('confirmed');
  });
});
