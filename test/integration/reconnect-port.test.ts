// reconnect-port, run for real: the ports and the state ss showed at the reconnect.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/reconnect-port.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('reconnect-port', () => {
  it('reconnects from a new port while the old one is in TIME-WAIT, and the old one is refused', async () => {
    const r = await runForTest('reconnect-port');
    const ev = evidenceOf(r, lab);
    const snap = snapshotNamed(r, 'at the reconnect');
    expect(snap.sockets.find((s) => s.local.endsWith(`:${ev.oldPort}`))?.state).toBe('TIME-WAIT');
    expect(snap.sockets.find((s) => s.local.endsWith(`:${ev.newPort}`))?.state).toBe('ESTAB');
    expect(ev.newPort).not.toBe(ev.oldPort);
    expect(ev.sameOldPort).toBe('EADDRINUSE');
    expect(verdictOf(r, 'reconnect-new-port')).toBe('confirmed');
  });
});
