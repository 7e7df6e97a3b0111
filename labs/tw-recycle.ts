// Tests: whether the tcp_tw_recycle knob that article 002 recommends still exists on this kernel.
import { readdirSync } from 'node:fs';
import { A002 } from '../harness/lab/articles.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { defineLab } from '../harness/lab/define.ts';
import { hasSysctl, sysctlPath } from '../harness/kernel/sysctl.ts';

const NAME = 'net.ipv4.tcp_tw_recycle';

export default defineLab({
  name: 'tw-recycle',
  title: 'Does net.ipv4.tcp_tw_recycle still exist?',
  description:
    'Looks for tcp_tw_recycle among the sandbox\'s /proc/sys/net/ipv4 entries and tries to set it to 1 ' +
    '(inside the sandbox only), recording the errno; lists the TIME-WAIT related knobs that do exist.',
  claims: [
    {
      id: 'tw-recycle-remedy',
      source: A002,
      statement: 'Setting net.ipv4.tcp_tw_recycle = 1 turns on fast recycling of TIME-WAIT sockets and is a remedy for too many of them.',
    },
  ],
  async run(ctx: LabContext) {
    const knobs = readdirSync(sysctlPath('net.ipv4')).filter((n) => /tw|time_?wait|fin_timeout|recycle/.test(n));
    ctx.event('sysctls', `TIME-WAIT related knobs in ${sysctlPath('net.ipv4')}: ${knobs.join(', ')}`, { knobs });
    const exists = hasSysctl(NAME);
    let write = 'ok';
    let readBack: string | undefined;
    try {
      readBack = await ctx.sysctl(NAME, '1');
    } catch (err) {
      write = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    ctx.event('errno', `writing 1 to ${sysctlPath(NAME)}: ${write}`, { path: sysctlPath(NAME), result: write, ...(readBack !== undefined ? { readBack } : {}) });
    if (!exists) {
      ctx.verdict(
        'tw-recycle-remedy',
        'refuted',
        `tcp_tw_recycle does not exist on this kernel: it is not among ${sysctlPath('net.ipv4')} (${knobs.join(', ')}) and writing it fails with ${write}. ` +
          'It was removed in Linux 4.12 (it dropped SYNs from clients behind NAT once timestamps got per-connection offsets); the remaining knobs are tcp_tw_reuse (client side, see the tw-reuse lab) and tcp_max_tw_buckets.',
      );
    } else {
      ctx.verdict('tw-recycle-remedy', 'inconclusive', `tcp_tw_recycle exists on this kernel (write: ${write}, read back: ${readBack ?? 'nothing'}); this lab does not measure its effect.`);
    }
  },
});
