// Listener.nextConnection: a handshake that never completes ends in WaitTimeout instead of hanging the lab.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeArgs } from '../helpers.ts';

describe('nextConnection', () => {
  it('in a sandbox: gives up after its timeout with WaitTimeout, and the next call gets the next connection', () => {
    const probe = fileURLToPath(new URL('./probes/next-connection.ts', import.meta.url));
    const out = execFileSync('unshare', ['--user', '--map-root-user', '--net', process.execPath, ...probeArgs(probe)], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TCP_LAB_TIME_SCALE: '1' } });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { first: string; waited: number; order: boolean[] };
    expect(r.first).toBe('no connection accepted on port 9100 after 150 ms');
    expect(r.waited).toBeGreaterThanOrEqual(145);
    expect(r.order).toEqual([true, true]);
  });
});
