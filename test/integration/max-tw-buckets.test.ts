// max-tw-buckets: the verdict must agree with which TIME-WAIT sockets the snapshots show before and after.
import { describe, expect, it } from 'vitest';
import { filterSockets } from '../../harness/evidence/census.ts';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('max-tw-buckets', () => {
  it('shows what happens to TIME-WAIT sockets over the limit', async () => {
    const r = await runForTest('max-tw-buckets', { limit: 3, extra: 5, port: 9210 });
    expect(r.sysctls['net.ipv4.tcp_max_tw_buckets']).toBe('3');
    const atLimit = filterSockets(snapshotNamed(r, 'at the limit').sockets, { peerPort: 9210, state: 'TIME-WAIT' }).map((s) => s.local);
    const after = filterSockets(snapshotNamed(r, 'after the overflow').sockets, { peerPort: 9210, state: 'TIME-WAIT' }).map((s) => s.local);
    expect(atLimit).toHaveLength(3);
    const overflow = (eventsOf(r, 'counters')[0].data!['TcpExt.TCPTimeWaitOverflow'] as number | undefined) ?? 0;
    const keptAll = atLimit.every((l) => after.includes(l)) && after.length === 3;
    const verdict = verdictOf(r, 'overflow-clears-all');
    if (keptAll && overflow === 5) expect(verdict).toBe('refuted');
    else if (after.filter((l) => atLimit.includes(l)).length === 0) expect(verdict).toBe('confirmed');
    else expect(verdict).toBe('inconclusive');
  });
});
