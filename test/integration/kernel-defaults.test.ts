// kernel-defaults, run for real: the figures it reports are the ones this machine has.
import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import lab from '../../labs/kernel-defaults.ts';
import { evidenceOf, runForTest, verdictOf } from '../helpers.ts';

describe('kernel-defaults', () => {
  it('reads the sandbox sysctls and the limits processes inherit', async () => {
    const r = await runForTest('kernel-defaults');
    const ev = evidenceOf(r, lab);
    expect(ev.timestamps).toBe('1'); // a fresh namespace starts with the kernel default
    const init = readFileSync('/proc/1/limits', 'utf8').match(/Max open files\s+(\d+)\s+(\d+)/)!;
    expect([ev.initSoft, ev.initHard]).toEqual([Number(init[1]), Number(init[2])]);
    expect(ev.finTimeout).toBe('60');
    expect(ev.closeWaitKnobs.includes('net.ipv4.tcp_close_wait_timeout')).toBe(existsSync('/proc/sys/net/ipv4/tcp_close_wait_timeout'));
    expect(verdictOf(r, 'nofile-default-1024')).toBe(ev.initSoft === 1024 ? 'confirmed' : 'refuted');
    expect(verdictOf(r, 'finwait2-closewait-timeouts')).toBe('partly');
  });
});
