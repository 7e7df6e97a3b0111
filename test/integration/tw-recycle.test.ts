// tw-recycle, run for real: whether the kernel has the knob, and what writing it returns.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import lab from '../../labs/tw-recycle.ts';
import { evidenceOf, runForTest, verdictOf } from '../helpers.ts';

describe('tw-recycle', () => {
  it('finds the same knobs as the host, and writing a missing one fails with ENOENT', async () => {
    const r = await runForTest('tw-recycle');
    const ev = evidenceOf(r, lab);
    expect(ev.exists).toBe(existsSync('/proc/sys/net/ipv4/tcp_tw_recycle')); // read-only look at the host
    expect(ev.knobs).toContain('tcp_tw_reuse');
    if (!ev.exists) {
      expect(ev.write).toBe('ENOENT');
      expect(verdictOf(r, 'tw-recycle-remedy')).toBe('refuted');
    }
  });
});
