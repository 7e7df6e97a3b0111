// port-exhaustion: the verdict must agree with the errno and the client's snapshot of TIME-WAIT ports.
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('port-exhaustion', () => {
  it('exhausts a narrowed port range with TIME-WAIT and records the errno', async () => {
    const r = await runForTest('port-exhaustion', { ports: 6 });
    expect(r.sysctls['client:net.ipv4.ip_local_port_range']).toBe('40000 40005');
    const exhausted = snapshotNamed(r, 'client: ports exhausted');
    expect(exhausted.host).toBe('client');
    const tw = countIn(exhausted, { peerPort: 8080, state: 'TIME-WAIT' });
    const [fail] = eventsOf(r, 'errno');
    const other = eventsOf(r, 'connect').filter((e) => e.data!.result === 'ok');
    const verdict = verdictOf(r, 'exhaustion-connect-fails');
    if (!fail) expect(verdict).toBe('refuted');
    else if (fail.data!.result === 'EADDRINUSE' && other.length === 0) expect(verdict).toBe('confirmed');
    else expect(verdict).toBe(tw === 6 ? 'partly' : 'inconclusive');
    // the other destination's connections sit on ports the TIME-WAIT sockets still hold
    const after = snapshotNamed(r, 'client: after connecting to :8081');
    for (const e of other) expect(countIn(after, { localPort: e.data!.localPort as number, peerPort: 8081, state: 'ESTAB' })).toBe(1);
    const range = eventsOf(r, 'sysctl').find((e) => e.data?.defaultRange)!.data!.defaultRange;
    expect(verdictOf(r, 'default-port-range') === 'confirmed').toBe(range === '32768 60999');
  });
});
