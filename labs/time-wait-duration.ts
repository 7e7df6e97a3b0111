// How long does TIME-WAIT last here, and does any sysctl (tcp_fin_timeout, the usual suspect) shorten it?
import { A000, A001, LOOPBACK, all, between, closeActively, connect, defineLab, filterSockets, hasSysctl, int, listen, need, readSysctl, type SockRecord } from '../harness/index.ts';

/** sysctl names one might expect to hold the TIME-WAIT length; reported as present or absent */
const SUSPECTS = ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_tw_timeout', 'net.ipv4.tcp_timewait_len', 'net.ipv4.tcp_tw_reuse_delay', 'net.ipv4.tcp_max_tw_buckets'];
const sec = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

export default defineLab({
  title: 'How long TIME-WAIT lasts, and whether a sysctl shortens it',
  seconds: 61,
  setup:
    'A client closes a loopback connection first, so its socket enters TIME-WAIT; the lab reads the ss timer and ' +
    'polls until the socket is gone. Then tcp_fin_timeout is set low inside the sandbox and a second connection is ' +
    'closed the same way; both are watched to the end (about a minute, with a live countdown).',
  claims: {
    'time-wait-60s': [A000, 'On Linux TIME-WAIT lasts 2MSL, which is 60 seconds.'],
    '2msl-1-to-4-minutes': [A001, 'TIME_WAIT lasts 2MSL, which is 1 to 4 minutes depending on the implementation.'],
    'no-sysctl-shortens': [A000, 'The 60 s TIME-WAIT length cannot be tuned at run time; changing it needs a recompiled kernel (tcp_fin_timeout does not shorten it).'],
  },
  options: { 'fin-timeout': int(1, 120, 1, 'tcp_fin_timeout set before the second connection closes', 's') },
  async run(ctx, o) {
    const present = SUSPECTS.filter(hasSysctl);
    ctx.event('sysctls', `present in this kernel: ${present.join(', ')}`, { present });
    const port = ctx.port();
    const listener = await listen({ host: LOOPBACK, port, reuseaddr: true });
    ctx.defer(() => listener.close());
    const watched: { name: string; finTimeout: number; localPort: number; closedAtMs: number; firstTimerMs?: number; lifeMs?: number }[] = [];
    for (const name of ['default', `tcp_fin_timeout=${o['fin-timeout']}`]) {
      if (watched.length) await ctx.sysctl('net.ipv4.tcp_fin_timeout', String(o['fin-timeout']));
      ctx.step(`close a connection from the client side (${name})`);
      const client = await connect(port, LOOPBACK);
      await listener.nextConnection();
      const w = { name, finTimeout: Number(readSysctl('net.ipv4.tcp_fin_timeout')), localPort: client.localPort!, closedAtMs: ctx.elapsedMs(), firstTimerMs: undefined as number | undefined };
      await closeActively(client);
      const [tw] = await ctx.waitForSockets(`TIME-WAIT on client port ${w.localPort}`, { localPort: w.localPort, state: 'TIME-WAIT' }, { label: `${name}: TIME-WAIT` });
      watched.push({ ...w, firstTimerMs: tw.timer?.remainingMs });
    }
    ctx.step('poll ss until both TIME-WAIT sockets are gone');
    const left = (read: SockRecord[] | undefined, w: (typeof watched)[number]) => (read ? filterSockets(read, { localPort: w.localPort, state: 'TIME-WAIT' })[0] : undefined);
    const countdown = (read?: SockRecord[]) => watched.filter((w) => w.lifeMs === undefined).map((w) => `${w.name}: ${sec(left(read, w)?.timer?.remainingMs)} left`).join('; ');
    await ctx.waitSs('the end of both TIME-WAIT sockets', (read) => {
      for (const w of watched) if (w.lifeMs === undefined && !left(read, w)) w.lifeMs = ctx.elapsedMs() - w.closedAtMs;
      return watched.every((w) => w.lifeMs !== undefined);
    }, { timeoutMs: 90_000, intervalMs: 100, label: 'after both are gone', focus: { port }, describe: countdown, progress: (ms, last) => `TIME-WAIT countdown (ss timer): ${countdown(last)} [${(ms / 1000).toFixed(0)} s waited]` });
    return { present, watched: watched.map(({ name, finTimeout, firstTimerMs, lifeMs }) => ({ name, finTimeout, firstTimerMs, lifeMs })) };
  },
  judge: ({ present, watched: [base, tuned] }) => {
    const untested = present.filter((n) => /tw_timeout|timewait_len/.test(n));
    return {
      'time-wait-60s': all(
        between('ss timer when TIME-WAIT was first seen', base?.firstTimerMs, 57_000, 60_000, 'ms'),
        between('lifetime from close() until ss no longer listed it', base?.lifeMs, 57_000, 63_000, 'ms'),
      ),
      '2msl-1-to-4-minutes': between('lifetime from close() until ss no longer listed it', base?.lifeMs, 57_000, 240_000, 'ms'),
      'no-sysctl-shortens': all(
        need('tcp_fin_timeout was changed between the two runs', tuned?.finTimeout !== base?.finTimeout, `both ran with ${base?.finTimeout} s`),
        need('both lifetimes measured', base?.lifeMs !== undefined && tuned?.lifeMs !== undefined, 'a TIME-WAIT socket was not watched to its end'),
        need('this kernel has no other sysctl that may hold a TIME-WAIT length', untested.length === 0, `it has ${untested.join(', ')}, which this lab does not try`),
        between(`lifetime with tcp_fin_timeout = ${tuned?.finTimeout} s (default run: ${sec(base?.lifeMs)} with ${base?.finTimeout} s)`, tuned?.lifeMs, (base?.lifeMs ?? NaN) - 2000, (base?.lifeMs ?? NaN) + 2000, 'ms'),
      ),
    };
  },
  tables: ({ watched, present }) => [{
    title: 'TIME-WAIT lifetime (close() to gone from ss, polled every 100 ms)',
    columns: ['connection', 'tcp_fin_timeout', 'ss timer when first seen', 'lifetime'],
    rows: watched.map((w) => [w.name, `${w.finTimeout} s`, sec(w.firstTimerMs), sec(w.lifeMs)]),
    note: `ss prints timers above 10 s in whole seconds. Of ${SUSPECTS.join(', ')}, this kernel has ${present.join(', ')}.`,
  }],
});
