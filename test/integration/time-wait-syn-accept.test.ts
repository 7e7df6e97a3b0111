// time-wait-syn-accept: the verdicts must agree with the server's snapshots (TIME-WAIT for the client port
// before, ESTAB after), the client's counters (RST and SYN retransmission or none), the errno of the new
// connect() and the measured gap between the two SYNs.
import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

/** Linux ISNs (secure_tcp_seq) add ktime_get_real_ns() >> 6: the clock moves 1e9/64 per second for one address pair. */
const ISN_TICKS_PER_MS = 1e6 / 64;

interface Reconnect {
  bytes: number;
  synGapMs: number;
  connectMs?: number;
  error?: string;
  clientDelta: Record<string, number>;
}

describe('time-wait-syn-accept', () => {
  it('reconnects from the same client port into the server\'s TIME-WAIT', async () => {
    const r = await runForTest('time-wait-syn-accept', { mb: 64 });
    const v = new Map(eventsOf(r, 'reconnect').map((e) => [e.data!.id as string, e.data as unknown as Reconnect]));
    expect(v.size).toBe(4);
    const twBefore = (id: string) => countIn(snapshotNamed(r, `${id}: server before the new SYN`), { localPort: 8080, peerPort: 45000, state: 'TIME-WAIT' });
    const estabAfter = (id: string) => countIn(snapshotNamed(r, `${id}: server after the new SYN`), { localPort: 8080, peerPort: 45000, state: 'ESTAB' });
    const d = (id: string, k: string) => v.get(id)!.clientDelta[k] ?? 0;
    const direct = (id: string) => twBefore(id) === 1 && estabAfter(id) === 1 && !d(id, 'Tcp.OutRsts') && !d(id, 'TcpExt.TCPSynRetrans');
    const recovered = (id: string) => twBefore(id) === 1 && estabAfter(id) === 1 && d(id, 'Tcp.OutRsts') >= 1 && d(id, 'TcpExt.TCPSynRetrans') >= 1;
    const advance = (id: string) => v.get(id)!.synGapMs * ISN_TICKS_PER_MS;
    const behind = (id: string) => v.get(id)!.bytes > advance(id);
    const ahead = (id: string) => v.get(id)!.bytes < advance(id);

    const higher = direct('ts1-seq-ahead') && direct('ts0-seq-ahead') && ahead('ts1-seq-ahead') && ahead('ts0-seq-ahead') && behind('ts0-seq-behind') && !direct('ts0-seq-behind');
    expect(verdictOf(r, 'tw-accepts-higher-seq')).toBe(higher ? 'confirmed' : 'inconclusive');

    const b0 = 'ts0-seq-behind';
    const error = v.get(b0)!.error;
    const lower =
      !(twBefore(b0) === 1 && behind(b0)) ? 'inconclusive'
      : error === 'ETIMEDOUT' ? 'confirmed'
      : error === 'ECONNREFUSED' ? 'partly'
      : error ? 'inconclusive'
      : recovered(b0) ? 'partly'
      : direct(b0) ? 'refuted'
      : 'inconclusive';
    expect(verdictOf(r, 'lower-seq-not-accepted')).toBe(lower);
  });
});
