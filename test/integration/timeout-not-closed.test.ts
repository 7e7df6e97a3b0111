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
    // timings within sane bounds of the settings, which a busy machine lengthens (x2, x4: recorded in each 'how')
    // idle: 1 s user timeout; retries2=2 ≈ 0.2+0.4+0.8+1.6 s; keepalive 1+1+1 s
    const [ut] = silent[0].how.match(/\d+/)!.map(Number);
    const retries2 = Number(silent[1].how.match(/= (\d+)/)![1]);
    const [idle, interval, count] = silent[2].how.match(/\d+/g)!.map(Number);
    expect(silent[0].tookMs).toBeGreaterThanOrEqual(ut);
    expect(silent[0].tookMs).toBeLessThan(ut + 3000);
    expect(silent[1].tookMs).toBeGreaterThanOrEqual(2000 * 2 ** (retries2 - 2));
    expect(silent[2].tookMs).toBeGreaterThanOrEqual((idle + interval * count) * 1000 - 500);
    expect(silent[0].server).toBe('ESTAB'); // the silent side never noticed
    expect([verdictOf(r, 'send-recv-timeout-closes'), verdictOf(r, 'kernel-timeout-closes')]).toEqual(['refuted', 'confirmed']);
  });
});
