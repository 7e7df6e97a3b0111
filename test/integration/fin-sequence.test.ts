// fin-sequence, run for real: TCP_INFO's bytes_acked through the handshake, 5 bytes and the FIN.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/fin-sequence.ts';
import { eventsOf, evidenceOf, runForTest, verdictOf } from '../helpers.ts';

describe('fin-sequence', () => {
  it('the SYN and the FIN each advance bytes_acked by one, data by its length', async () => {
    const r = await runForTest('fin-sequence');
    const ev = evidenceOf(r, lab);
    expect(ev).toEqual({ handshake: { sent: 0, acked: 1 }, data: { sent: 5, acked: 6 }, fin: { sent: 5, acked: 7 } });
    expect(eventsOf(r, 'tcp-info')).toHaveLength(1);
    expect(verdictOf(r, 'fin-takes-one-seq')).toBe('confirmed');
  });
});
