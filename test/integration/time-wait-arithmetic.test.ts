// time-wait-arithmetic, run for real on two hosts: the TIME-WAIT length and pile it recomputes article 001's
// figures from, the load balancer's reuse of ports the server holds in TIME-WAIT, and its own TIME-WAIT blocking.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-arithmetic.ts';
import { countIn, eventsOf, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-arithmetic', () => {
  it('measures a 60 s TIME-WAIT, one per server-closed connection, and ports reused while the server holds them', async () => {
    const r = await runForTest('time-wait-arithmetic');
    const { range, maxTwBuckets, pile, lb, own } = evidenceOf(r, lab);
    expect(range.hi - range.lo + 1).toBeGreaterThan(1000);
    expect(maxTwBuckets).toBeGreaterThan(0);
    // the pile: one TIME-WAIT on the server per client port, as the recorded snapshot shows, each with ~60 s left
    const piled = snapshotNamed(r, 'server: after the server-closed connections').sockets.filter((s) => s.state === 'TIME-WAIT');
    expect(piled.length).toBe(pile.serverTw);
    expect(pile.serverTw).toBe(pile.distinct);
    expect(pile.distinct).toBe(pile.n);
    for (const s of piled) expect(s.timer?.name).toBe('timewait');
    expect(pile.minTimerMs).toBeGreaterThanOrEqual(55_000);
    expect(pile.maxTimerMs).toBeLessThan(60_000);
    // the load balancer: its narrowed range, every connection made, each port used many times
    expect(r.sysctls['client:net.ipv4.ip_local_port_range']).toMatch(/^40000\s+40015$/);
    expect(lb.failure).toBeUndefined();
    expect(lb.made).toBe(16 * 20);
    expect(lb.distinct).toBeLessThanOrEqual(16);
    expect(lb.mostPerPort).toBeGreaterThan(1);
    expect(lb.ms).toBeLessThan(lb.maxTimerMs!);
    expect(countIn(snapshotNamed(r, "server: after the load balancer's connections"), { state: 'TIME-WAIT' })).toBe(pile.serverTw + lb.serverTw);
    expect(lb.serverTw).toBe(lb.distinct);
    // closing first itself, the load balancer runs out of ports
    expect(own).toEqual({ made: 16, failure: 'EADDRNOTAVAIL' });
    expect(eventsOf(r, 'errno', { result: 'EADDRNOTAVAIL' })).toHaveLength(1);
    expect(verdictOf(r, 'server-pile-240k')).toBe('partly');
    expect(verdictOf(r, 'lb-port-blocked-240s')).toBe('refuted');
  });
});
