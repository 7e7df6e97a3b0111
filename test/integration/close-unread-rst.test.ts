// close-unread-rst, run for real: the kernel facts behind both verdicts, checked against the snapshots.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/close-unread-rst.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('close-unread-rst', () => {
  it('close() with 500 unread bytes resets the connection; after reading them it sends a FIN', async () => {
    const r = await runForTest('close-unread-rst', { bytes: 500 });
    const ev = evidenceOf(r, lab);
    const [u, read] = ev.cases.map((c) => c.evidence!);
    // the snapshots before each close show what the evidence says was in the client's Recv-Q
    const q = (label: string) => Math.max(...snapshotNamed(r, label).sockets.map((s) => s.recvQ));
    expect(q('unread: before close')).toBe(500);
    expect(u.recvQ).toBe(500);
    expect(q('all-read: before close')).toBe(0);
    expect(u).toMatchObject({ rsts: 1, abortOnClose: 1, clientAfter: 'absent', serverAfter: 'absent', reads: ['-1 ECONNRESET', '0 (EOF)'] });
    expect(read).toMatchObject({ recvQ: 0, rsts: 0, clientAfter: 'FIN-WAIT-2', serverAfter: 'CLOSE-WAIT', reads: ['0 (EOF)', '0 (EOF)'] });
    expect(snapshotNamed(r, 'all-read: after close').sockets.map((s) => s.state).sort()).toEqual(['CLOSE-WAIT', 'FIN-WAIT-2', 'LISTEN']);
    expect([verdictOf(r, 'unread-close-sends-rst'), verdictOf(r, 'read-close-sends-fin')]).toEqual(['confirmed', 'confirmed']);
  });
});
