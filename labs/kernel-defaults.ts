// The defaults the articles quote: tcp_timestamps on, an open-file limit of 1024, timeouts for FIN-WAIT-2 and CLOSE-WAIT.
import { readFileSync } from 'node:fs';
import { A000, A003, all, defineLab, fig, hasSysctl, is, missing, readSysctl, yes } from '../harness/index.ts';

/** sysctls that could bound a CLOSE-WAIT socket, on some kernel or other */
const CLOSE_WAIT_KNOBS = ['net.ipv4.tcp_close_wait_timeout', 'net.ipv4.tcp_closewait_timeout', 'net.netfilter.nf_conntrack_tcp_timeout_close_wait'];
const limitOf = (pid: number | 'self') => readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!.split(/\s{2,}/).slice(1, 3).map(Number);

export default defineLab({
  title: 'Defaults the articles quote: tcp_timestamps, the open-file limit, FIN-WAIT-2 and CLOSE-WAIT timeouts',
  setup:
    "Reads a fresh network namespace's TCP sysctls, the open-file limit the system gives processes (the soft and " +
    'hard limits of pid 1, which every login inherits unless something raises it) and this process\'s own, and looks ' +
    'for the sysctls that bound FIN-WAIT-2 and CLOSE-WAIT.',
  claims: {
    'timestamps-default-on': [A000, 'tcp_timestamps is on by default.'],
    'nofile-default-1024': [A000, 'By default a process may open 1024 files (ulimit -n), sockets included.'],
    'finwait2-closewait-timeouts': [A003, 'The FIN_WAIT_2 and the CLOSE_WAIT timeouts can both be configured (tuned with sysctls).'],
  },
  async run() {
    const [initSoft, initHard] = limitOf(1);
    const [ownSoft, ownHard] = limitOf('self');
    return {
      timestamps: readSysctl('net.ipv4.tcp_timestamps'), initSoft, initHard, ownSoft, ownHard,
      finTimeout: hasSysctl('net.ipv4.tcp_fin_timeout') ? readSysctl('net.ipv4.tcp_fin_timeout') : undefined,
      closeWaitKnobs: CLOSE_WAIT_KNOBS.filter(hasSysctl),
    };
  },
  judge: (ev) => ({
    'timestamps-default-on': is('net.ipv4.tcp_timestamps in a fresh network namespace', ev.timestamps, '1'),
    'nofile-default-1024': is(`soft open-file limit of pid 1, which every process inherits unless raised (hard ${fig(ev.initHard)}; this Node process ${fig(ev.ownSoft)}/${fig(ev.ownHard)}; in a container pid 1 is its runtime's init)`, ev.initSoft, 1024),
    'finwait2-closewait-timeouts': all(
      yes(`a sysctl bounds an orphaned FIN-WAIT-2 (net.ipv4.tcp_fin_timeout = ${ev.finTimeout ?? 'absent'})`, ev.finTimeout !== undefined),
      ev.closeWaitKnobs
        ? yes(`a TCP sysctl bounds CLOSE-WAIT (looked for ${CLOSE_WAIT_KNOBS.slice(0, 2).join(', ')}; found ${ev.closeWaitKnobs.join(', ') || 'none'})`, ev.closeWaitKnobs.some((k) => k.startsWith('net.ipv4.')))
        : missing('a TCP sysctl that bounds CLOSE-WAIT', 'the sysctls were not looked up'),
    ),
  }),
});
