// port-exhaustion, run for real: the errno, the TIME-WAIT sockets behind it, and the other destination.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/port-exhaustion.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('port-exhaustion', () => {
  it('exhausts a 6-port range: EADDRNOTAVAIL, while another destination still gets the same ports', async () => {
    const r = await runForTest('port-exhaustion', { ports: 6 });
    const ev = evidenceOf(r, lab);
    expect(r.sysctls['client:net.ipv4.ip_local_port_range']).toMatch(/^40000\s+40005$/);
    expect(ev.used).toHaveLength(6);
    expect(new Set(ev.used).size).toBe(6);
    expect(countIn(snapshotNamed(r, 'client: ports exhausted'), { state: 'TIME-WAIT' })).toBe(6);
    expect(ev.failure).toBe('EADDRNOTAVAIL');
    expect(ev.other.every((a) => a.result === 'ok' && a.inTimeWait)).toBe(true);
    expect(ev.defaultRange).toBe('32768 60999');
    expect([verdictOf(r, 'exhaustion-connect-fails'), verdictOf(r, 'default-port-range')]).toEqual(['partly', 'confirmed']);
  });
});
