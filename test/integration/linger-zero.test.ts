// linger-zero, run for real: the states, RST counts and timings the verdicts rest on.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/linger-zero.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('linger-zero', () => {
  it('l_linger = 0 and resetAndDestroy() reset; a non-zero linger blocks close() and still ends with FIN', async () => {
    const r = await runForTest('linger-zero', { seconds: 1 });
    const rows = Object.fromEntries(evidenceOf(r, lab).rows.map((c) => [c.mode, c.evidence!]));
    // (an RST the peer sends later, answering a stray segment, can add to rsts of the first three; tcp_rfc1337 keeps their TIME-WAIT)
    for (const m of ['close', 'linger-n', 'linger-n-blocked']) expect(rows[m], m).toMatchObject({ settled: 'TIME-WAIT', aborts: 0, serverSaw: 'FIN' });
    for (const m of ['linger0', 'resetAndDestroy']) expect(rows[m], m).toMatchObject({ right: 'absent', settled: 'absent', rsts: 1, aborts: 1, serverSaw: 'error ECONNRESET' });
    expect(r.sysctls).toMatchObject({ 'net.ipv4.tcp_rfc1337': '1' });
    // the blocked close waited out l_linger and left its data in FIN-WAIT-1, as the snapshot right after shows
    expect(rows['linger-n-blocked'].closeMs).toBeGreaterThanOrEqual(900);
    expect(rows['linger-n-blocked'].closeMs).toBeLessThan(3000);
    expect(snapshotNamed(r, 'linger-n-blocked: just after close() returned').sockets.some((s) => s.state === 'FIN-WAIT-1' && s.sendQ > 0)).toBe(true);
    expect(rows['linger-n'].closeMs).toBeLessThan(500);
    expect([verdictOf(r, 'linger-sends-rst'), verdictOf(r, 'linger-close-waits')]).toEqual(['confirmed', 'confirmed']);
  });
});
