// port-exhaustion: the verdict must agree with the errno and the client's snapshot of TIME-WAIT ports.
import { describe, expect, it } from 'vitest';
import { portOf } from '../../harness/evidence/ss.ts';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('port-exhaustion', () => {
  it('exhausts a narrowed port range with TIME-WAIT and records the errno', async () => {
    const r = await runForTest('port-exhaustion', { ports: 6 });
    expect(r.sysctls['client:net.ipv4.ip_local_port_range']).toBe('40000 40005');
    const exhausted = snapshotNamed(r, 'client: ports exhausted');
    expect(exhausted.host).toBe('client');
    const twPorts = exhausted.sockets.filter((s) => s.state === 'TIME-WAIT' && portOf(s.peer) === 8080).map((s) => portOf(s.local));
    const okFirst = eventsOf(r, 'connect', { to: ':8080', result: 'ok' });
    // every successful short connection's port is one of the TIME-WAIT sockets of the snapshot
    const allInTw = okFirst.every((e) => twPorts.includes(e.data!.localPort as number));
    const fails = eventsOf(r, 'errno');
    expect(fails.length).toBeLessThanOrEqual(1);
    const fail = fails[0]?.data!.result as string | undefined;
    const other = eventsOf(r, 'connect', { to: ':8081', result: 'ok' });
    const expected =
      fail === undefined ? 'refuted'
      : fail !== 'EADDRNOTAVAIL' && fail !== 'EADDRINUSE' ? 'inconclusive'
      : !allInTw ? 'inconclusive'
      : fail === 'EADDRINUSE' && other.length === 0 ? 'confirmed'
      : 'partly';
    expect(verdictOf(r, 'exhaustion-connect-fails')).toBe(expected);
    // the other destination's connections sit on ports the TIME-WAIT sockets still hold
    const after = snapshotNamed(r, 'client: after connecting to :8081');
    for (const e of other) expect(countIn(after, { localPort: e.data!.localPort as number, peerPort: 8081, state: 'ESTAB' })).toBe(1);
    const range = eventsOf(r, 'sysctl').find((e) => e.data?.defaultRange)!.data!.defaultRange;
    expect(verdictOf(r, 'default-port-range') === 'confirmed').toBe(range === '32768 60999');
  });
});
