// time-wait-cost, run for real: slab objects per TIME-WAIT socket and the ports they hold.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-cost.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-cost', () => {
  it('each TIME-WAIT socket is one small tw_sock_TCP object; only client-side ones hold a port', async () => {
    const r = await runForTest('time-wait-cost', { n: 500 });
    const ev = evidenceOf(r, lab);
    const size = Number(readFileSync('/proc/slabinfo', 'utf8').split('\n').find((l) => l.startsWith('tw_sock_TCP '))!.trim().split(/\s+/)[3]);
    expect(ev.twSize).toBe(size);
    expect(countIn(snapshotNamed(r, 'TIME-WAIT on both sides'), { state: 'TIME-WAIT' })).toBe(1000);
    expect([ev.serverLocalPorts, ev.clientLocalPorts]).toEqual([1, 500]);
    expect(verdictOf(r, 'time-wait-lightweight')).toBe('confirmed');
  });
});
