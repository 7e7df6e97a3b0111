// handshake, run for real: each held state in its snapshot, and how the stuck handshakes ended.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/handshake.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('handshake', () => {
  it('holds SYN-SENT and SYN-RECV with dropped segments; stuck handshakes fail with ETIMEDOUT and ECONNRESET', async () => {
    const r = await runForTest('handshake');
    const ev = evidenceOf(r, lab);
    expect(countIn(snapshotNamed(r, 'SYN-SENT (SYN dropped)'), { localPort: 41000, state: 'SYN-SENT' })).toBe(1);
    expect(countIn(snapshotNamed(r, 'SYN-RECV (last ACK dropped)'), { peerPort: 41003, state: 'SYN-RECV' })).toBe(1);
    expect(countIn(snapshotNamed(r, 'SYN-RECV (last ACK dropped)'), { localPort: 41003, state: 'ESTAB' })).toBe(1); // the client already believes it
    expect(ev.sent).toMatchObject({ held: 'SYN-SENT', resolved: 'ESTAB' });
    expect(ev.recv).toMatchObject({ held: 'SYN-RECV', client: 'ESTAB', acceptedWhileHeld: 0, resolved: 'ESTAB', plain: 0 });
    // the retransmissions come after ~1 s (tcp_syn_retries = tcp_synack_retries = 1)
    expect(ev.recv.acceptMs).toBeLessThan(2500);
    expect(ev.stuckSent).toMatch(/^ETIMEDOUT after \d+ ms$/);
    expect(Number(ev.stuckSent.match(/(\d+) ms/)![1])).toBeGreaterThanOrEqual(2500);
    expect(ev.stuckRecv).toMatchObject({ client: 'ESTAB', write: 'ECONNRESET' });
    expect(['listen-state', 'syn-sent-state', 'syn-rcvd-hidden', 'established-state'].map((id) => verdictOf(r, id))).toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed']);
  });
});
