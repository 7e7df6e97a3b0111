// max-tw-buckets, run for real: the kernel facts its verdict rests on.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/max-tw-buckets.ts';
import { countIn, eventsOf, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('max-tw-buckets', () => {
  it('over the limit, existing TIME-WAIT sockets survive and new ones skip TIME-WAIT', async () => {
    const r = await runForTest('max-tw-buckets', { limit: 3, extra: 5 });
    const ev = evidenceOf(r, lab);
    expect(r.sysctls['net.ipv4.tcp_max_tw_buckets']).toBe('3');
    expect(countIn(snapshotNamed(r, 'at the limit'), { state: 'TIME-WAIT' })).toBe(3);
    // the evidence agrees with the snapshot it was read from
    const after = snapshotNamed(r, 'after the overflow');
    expect(countIn(after, { state: 'TIME-WAIT' })).toBe(ev.survivors.length + ev.laterInTimeWait.length);
    expect(ev.later).toHaveLength(5);
    // what Linux does (6.x): nothing is cleared, the new ones are counted as overflow
    expect(ev.survivors).toEqual(ev.before);
    expect(ev.laterInTimeWait).toEqual([]);
    expect(ev.overflowCounter).toBe(5);
    expect(eventsOf(r, 'counters')[0].data).toMatchObject({ 'TcpExt.TCPTimeWaitOverflow': 5 });
    expect(verdictOf(r, 'overflow-clears-all')).toBe('refuted');
  });
});
