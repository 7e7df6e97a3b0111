// timeout-not-closed, run for real: states after each timeout, errno and timing of each kernel timeout.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/timeout-not-closed.ts';
import { evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('timeout-not-closed', () => {
  it('app timeouts leave both ends ESTABLISHED; TCP_USER_TIMEOUT, tcp_retries2 and keepalive end it with ETIMEDOUT', async () => {
    const r = await runForTest('timeout-not-closed', { 'app-timeout-ms': 200 });
    const { app, silent } = evidenceOf(r, lab);
    expect(app.map((a) => [a.returned, a.client, a.server])).toEqual([["'timeout' event", 'ESTAB', 'ESTAB'], ['-1 EAGAIN', 'ESTAB', 'ESTAB'], ['-1 EAGAIN', 'ESTAB', 'ESTAB']]);
    expect(app[0].afterwards).toBe('client recv(2) afterwards: 10 bytes');
    expect(snapshotNamed(r, 'after recv(2) with SO_RCVTIMEO').sockets.filter((s) => s.state === 'ESTAB').length).toBeGreaterThanOrEqual(2);
    for (const d of silent) expect([d.code, d.client], d.how).toEqual(['ETIMEDOUT', 'absent']);
    // timings within sane bounds of the settings (1 s user timeout; retries2=2 ≈ 0.2+0.4+0.8+1.6 s; keepalive 1+1+1 s)
    expect(silent[0].tookMs).toBeGreaterThanOrEqual(1000);
    expect(silent[0].tookMs).toBeLessThan(4000);
    expect(silent[1].tookMs).toBeGreaterThanOrEqual(2000);
    expect(silent[2].tookMs).toBeGreaterThanOrEqual(2500);
    expect(silent[0].server).toBe('ESTAB'); // the silent side never noticed
    expect([verdictOf(r, 'send-recv-timeout-closes'), verdictOf(r, 'kernel-timeout-closes')]).toEqual(['refuted', 'confirmed']);
  });
});
