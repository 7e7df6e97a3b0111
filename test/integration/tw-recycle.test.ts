// tw-recycle: the verdict must agree with what writing the knob returned.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, verdictOf } from '../helpers.ts';

describe('tw-recycle', () => {
  it('reports whether tcp_tw_recycle exists', async () => {
    const r = await runForTest('tw-recycle');
    const [write] = eventsOf(r, 'errno');
    const knobs = eventsOf(r, 'sysctls')[0].data!.knobs as string[];
    const absent = !knobs.includes('tcp_tw_recycle') && write.data!.result !== 'ok';
    expect(verdictOf(r, 'tw-recycle-remedy')).toBe(absent ? 'refuted' : 'inconclusive');
    // the sandbox sees the same kernel as the host (read-only check of the host's /proc)
    expect(absent).toBe(!existsSync('/proc/sys/net/ipv4/tcp_tw_recycle'));
  });
});
