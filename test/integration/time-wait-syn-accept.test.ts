// time-wait-syn-accept: the verdicts must agree with the server's snapshots (TIME-WAIT for the client port
// before, ESTAB after) and with the client's counters (RST and SYN retransmission or none).
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-syn-accept', () => {
  it('reconnects from the same client port into the server\'s TIME-WAIT', async () => {
    const r = await runForTest('time-wait-syn-accept', { mb: 64 });
    const v = new Map(eventsOf(r, 'reconnect').map((e) => [e.data!.id as string, e.data as { connectMs?: number; clientDelta: Record<string, number> }]));
    expect(v.size).toBe(4);
    const direct = (id: string) => {
      const before = countIn(snapshotNamed(r, `${id}: server before the new SYN`), { localPort: 8080, peerPort: 45000, state: 'TIME-WAIT' });
      const after = countIn(snapshotNamed(r, `${id}: server after the new SYN`), { localPort: 8080, peerPort: 45000, state: 'ESTAB' });
      const d = v.get(id)!.clientDelta;
      return before === 1 && after === 1 && !d['Tcp.OutRsts'] && !d['TcpExt.TCPSynRetrans'];
    };
    const expected = direct('ts1-seq-ahead') && direct('ts0-seq-ahead') && !direct('ts0-seq-behind');
    expect(verdictOf(r, 'tw-accepts-higher-seq') === 'confirmed').toBe(expected);
    const b0 = v.get('ts0-seq-behind')!.clientDelta;
    if (verdictOf(r, 'lower-seq-not-accepted') === 'partly') expect((b0['Tcp.OutRsts'] ?? 0) >= 1 && (b0['TcpExt.TCPSynRetrans'] ?? 0) >= 1).toBe(true);
    if (verdictOf(r, 'lower-seq-not-accepted') === 'refuted') expect(direct('ts0-seq-behind')).toBe(true);
  });
});
