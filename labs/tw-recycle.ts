// Can tcp_tw_recycle, the remedy article 002 recommends, still be turned on?
import { readdirSync } from 'node:fs';
import { A002, defineLab, every, hasSysctl, is, need, sysctlPath, writeSysctl } from '../harness/index.ts';

const NAME = 'net.ipv4.tcp_tw_recycle';

export default defineLab({
  title: 'Does net.ipv4.tcp_tw_recycle still exist?',
  setup:
    "Looks for tcp_tw_recycle among the sandbox's /proc/sys/net/ipv4 entries, tries to set it to 1 (inside the " +
    'sandbox only) and records the errno, and lists the TIME-WAIT related knobs that do exist.',
  claims: {
    'tw-recycle-remedy': [A002, 'Setting net.ipv4.tcp_tw_recycle = 1 turns on fast recycling of TIME-WAIT sockets, a remedy for too many of them.'],
  },
  async run(ctx) {
    const knobs = readdirSync(sysctlPath('net.ipv4')).filter((n) => /tw|time_?wait|fin_timeout|recycle/.test(n));
    ctx.event('sysctls', `TIME-WAIT related knobs in ${sysctlPath('net.ipv4')}: ${knobs.join(', ')}`, { knobs });
    let write = 'ok';
    try {
      writeSysctl(NAME, '1');
    } catch (err) {
      write = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    ctx.event('errno', `writing 1 to ${sysctlPath(NAME)}: ${write}`, { result: write });
    return { knobs, exists: hasSysctl(NAME), write };
  },
  judge: (ev) => ({
    // the claim needs a knob to turn on; where it exists this lab does not measure its effect
    'tw-recycle-remedy': every(
      need('the effect of the knob is measured', !ev.exists, `${NAME} exists on this kernel (write: ${ev.write}); this lab does not measure what it does`),
      is(`${NAME} among the kernel's net.ipv4 knobs (${ev.knobs.join(', ')})`, ev.exists, true),
      is('writing 1 to it', ev.write, 'ok'),
    ),
  }),
});
