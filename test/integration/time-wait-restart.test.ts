// time-wait-restart, run for real: the errno of every bind, checked against the sockets ss showed.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import lab from '../../labs/time-wait-restart.ts';
import { countIn, eventsOf, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('time-wait-restart (real kernel)', () => {
  let r: LabResult;
  const N = 3;
  beforeAll(async () => {
    r = await runForTest('time-wait-restart', { connections: N });
  });

  it('ran the 4 x 4 matrix, each cell over the N TIME-WAIT sockets ss showed, with the options read back from the kernel', () => {
    const ev = evidenceOf(r, lab);
    expect(ev.tw).toHaveLength(16);
    for (const c of ev.tw) {
      expect(c.error).toBeUndefined();
      expect(c.evidence!.leftovers).toBe(N);
    }
    for (const e of eventsOf(r, 'bind')) expect(e.data!.kernel).toEqual(e.data!.requested);
    expect(ev.nodeDefault).toEqual({ reuseaddr: true, reuseport: false }); // libuv sets SO_REUSEADDR on every listener
  });

  it('every restart that succeeded is listening afterwards, every one that failed is not', () => {
    const after = snapshotNamed(r, 'after the restarts');
    const ev = evidenceOf(r, lab);
    for (const c of [...ev.tw, ...ev.others]) {
      const listening = countIn(after, { localPort: c.evidence!.port, state: 'LISTEN' });
      const oldStillListening = 'state' in c && c.state === 'LISTEN' ? 1 : 0;
      expect(listening, JSON.stringify(c)).toBe((c.evidence!.outcome === 'ok' ? 1 : 0) + oldStillListening);
    }
  });

  it('Linux: EADDRINUSE without SO_REUSEADDR; TIME-WAIT keeps the old listener\'s flags; only LISTEN blocks SO_REUSEADDR', () => {
    const ev = evidenceOf(r, lab);
    const at = (old: string, next: string) => ev.tw.find((c) => c.old === old && c.next === next)!.evidence!.outcome;
    expect(at('none', 'none')).toBe('bind EADDRINUSE');
    expect(at('none', 'reuseaddr')).toBe('bind EADDRINUSE');
    expect(at('reuseaddr', 'reuseaddr')).toBe('ok');
    expect(at('reuseport', 'reuseport')).toBe('ok');
    const over = (state: string) => ev.others.find((c) => c.state === state && c.next === 'reuseaddr')!.evidence!;
    for (const state of ['ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-2']) expect(over(state).outcome, state).toBe('ok');
    expect(over('LISTEN').outcome).toBe('bind EADDRINUSE');
    expect([verdictOf(r, 'restart-needs-reuseaddr'), verdictOf(r, 'reuseport-not-over-time-wait'), verdictOf(r, 'reuseaddr-only-time-wait')]).toEqual(['confirmed', 'refuted', 'refuted']);
  });
});
