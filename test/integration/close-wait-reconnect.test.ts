// close-wait-reconnect, run for real: a SYN from the same port against an old CLOSE-WAIT.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/close-wait-reconnect.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-wait-reconnect', () => {
  it('the reconnect draws a challenge ACK, the client resets the old connection and connects', async () => {
    const r = await runForTest('close-wait-reconnect');
    const ev = evidenceOf(r, lab);
    const before = snapshotNamed(r, 'client orphan reaped, server still CLOSE-WAIT');
    expect(countIn(before, { state: 'CLOSE-WAIT' })).toBe(1);
    expect(countIn(before, { localPort: 46000 })).toBe(0);
    expect(ev.connect).toMatch(/^connected after \d+ ms$/);
    expect(ev.acceptedNew).toBe(true);
    expect(countIn(snapshotNamed(r, 'after the reconnect'), { state: 'CLOSE-WAIT' })).toBe(0);
    expect(ev.rsts).toBeGreaterThanOrEqual(1);
    expect(verdictOf(r, 'close-wait-until-close')).toBe('refuted');
  });
});
