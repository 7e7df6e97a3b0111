// time-wait-old-duplicate, run for real with its capture: the raw copy is on the wire, TIME-WAIT's answer carries
// the numbers the original exchange leads to, and the restarted server gets nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-old-duplicate.ts';
import { eventsOf, evidenceOf, runForTest, verdictOf } from '../helpers.ts';

describe('time-wait-old-duplicate', () => {
  it('TIME-WAIT answers an exact old duplicate with an ACK of the client FIN + 1; the peer resets it; a restarted server reads nothing', async () => {
    const r = await runForTest('time-wait-old-duplicate', {}, { capture: true });
    const ev = evidenceOf(r, lab);
    if (!ev.found) throw new Error('the lab found nothing to copy in its capture');
    expect(eventsOf(r, 'inject')).toHaveLength(2);
    expect(ev.stateBefore).toBe('TIME-WAIT');
    expect(ev.first).toEqual({ flags: '.', seq: ev.expect.seq, ack: ev.expect.ack });
    // with tcp_rfc1337 = 0 (the default) the client's RST ends the TIME-WAIT early
    expect(ev.peer?.flags).toBe('R');
    expect(ev.stateAfter).toBe('absent');
    expect(ev.restartOver).toBe('TIME-WAIT');
    expect(ev.second?.flags).toBe('.');
    expect(ev.stateAfterRestart).toBe('TIME-WAIT');
    expect([ev.accepted, ev.bytes]).toEqual([0, 0]);
    expect(r.sysctls['net.ipv4.tcp_invalid_ratelimit']).toBe('0');
    expect(readFileSync('/proc/sys/net/ipv4/tcp_invalid_ratelimit', 'utf8').trim()).not.toBe(''); // the host's is untouched and readable
    expect(verdictOf(r, 'old-duplicate-acked')).toBe('confirmed');
    expect(verdictOf(r, 'restart-stray-data')).toBe('refuted');
  });
});
