// client-reuse-time-wait, run for real: which binds fail, which connects take over the TIME-WAIT, checked against ss.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/client-reuse-time-wait.ts';
import { evidenceOf, runForTest, verdictOf } from '../helpers.ts';

describe('client-reuse-time-wait', () => {
  it('binding over a TIME-WAIT needs the same option on the old socket; then connect() takes it over at once, even with tcp_tw_reuse=0', async () => {
    const r = await runForTest('client-reuse-time-wait');
    const ev = evidenceOf(r, lab);
    expect(ev.cells).toHaveLength(24);
    expect(ev.timestamps).toBe('1');
    for (const c of ev.cells) {
      const e = c.evidence!;
      expect(c.error).toBeUndefined();
      const same = c.old === c.new;
      // the bind rule: both sockets must carry the option (a plain old socket never lets the port be bound)
      expect(e.bind, `${c.twReuse} ${c.old}->${c.new} ${c.wait}`).toBe(same ? 'ok' : 'EADDRINUSE');
      // a connect that worked left no TIME-WAIT and an established connection on that same port
      if (e.connect === 'ok') expect([e.timeWaitLeft, e.established]).toEqual([0, 1]);
      else expect(e.timeWaitLeft).toBe(1);
    }
    expect(ev.cells.filter((c) => c.old === c.new && c.wait === 'at once' && c.twReuse === '0').every((c) => c.evidence!.connect === 'ok')).toBe(true);
    expect(verdictOf(r, 'reuse-option-takes-over')).toBe('confirmed');
  });
});
