// time-wait-fd, run for real: ss -p owners of TIME-WAIT sockets and the process's own descriptors.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/time-wait-fd.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-fd', () => {
  it('TIME-WAIT sockets have no owner and take no descriptor; a new connection opens', async () => {
    const r = await runForTest('time-wait-fd', { n: 50 });
    const ev = evidenceOf(r, lab);
    const tw = snapshotNamed(r, 'TIME-WAIT').sockets.filter((s) => s.state === 'TIME-WAIT');
    expect(tw).toHaveLength(50);
    expect(tw.every((s) => !s.users?.length)).toBe(true);
    expect(countIn(snapshotNamed(r, 'TIME-WAIT'), { state: 'LISTEN' })).toBe(1);
    expect(ev.during - ev.before).toBeLessThanOrEqual(ev.listenerFds + 1); // the listener, give or take a pipe
    expect(ev.next).toBe('connected');
    expect(verdictOf(r, 'time-wait-holds-fd')).toBe('refuted');
  });
});
