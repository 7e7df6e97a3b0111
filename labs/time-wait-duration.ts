// How long does TIME-WAIT last here, and does any sysctl (tcp_fin_timeout, the usual suspect) shorten it? From what the kernel
// shows, so a slow harness widens the ranges, not the figures: it begins at the peer's FIN (capture; else between close() and its
// return), its timer is the ss timer at first sight plus the time since, it ends between the last read listing it and the next.
import { A000, A001, LOOPBACK, all, check, closeActively, connect, defineLab, fig, filterSockets, hasSysctl, int, listen, need, readSysctl, until, type SockRecord } from '../harness/index.ts';

const SUSPECTS = ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_tw_timeout', 'net.ipv4.tcp_timewait_len', 'net.ipv4.tcp_tw_reuse_delay', 'net.ipv4.tcp_max_tw_buckets']; // may hold the length
// SLOP: ms added to every bound (a jiffy at HZ=100, ms clocks). LATE: timers fire late, never early: the timer wheel by at most 1/8
// of the timeout (as did the old TIME-WAIT death row). ss reads come SLOW_MS apart while every timer is far from expiry, FAST_MS near it.
const [SLOP, LATE, SLOW_MS, FAST_MS] = [10, 1.125, 5000, 50];
type Range = [number, number];
interface Watch { name: string; finTimeout: number; localPort: number; start: Range; startFrom: string; seen?: Range; timer?: string; timerMs?: number; listed?: number; gone?: number }
const show = (r?: Range) => (r ? `${r[0]}-${r[1]} ms` : undefined);
const reaches = (r: Range | undefined, lo: number, hi: number) => r !== undefined && r[0] <= hi && r[1] >= lo;
// its timer: when the first-seen timer runs out (above 10 s ss shows whole seconds), less the start; its life: start to gone
const armed = (w?: Watch): Range | undefined => (w?.seen && w.timerMs !== undefined ? [Math.max(0, w.seen[0] + w.timerMs - w.start[1] - SLOP), w.seen[1] + w.timerMs + (w.timerMs >= 10_000 ? 1000 : 0) - w.start[0] + SLOP] : undefined);
const life = (w?: Watch): Range | undefined => (w?.listed !== undefined && w.gone !== undefined ? [Math.max(0, w.listed - w.start[1] - SLOP), w.gone - w.start[0] + SLOP] : undefined);

export default defineLab({
  title: 'How long TIME-WAIT lasts, and whether a sysctl shortens it',
  seconds: 61,
  setup: 'A client closes a loopback connection first, so its socket enters TIME-WAIT; the lab reads its ss timer and reads ss until it ' +
    "is gone (seldom while the timer runs, every 50 ms near its end). Then tcp_fin_timeout is set low and a second connection is closed the same way; both are watched to the end (about a minute). Times count from the peer's FIN.",
  claims: {
    'time-wait-60s': [A000, 'On Linux TIME-WAIT lasts 2MSL, which is 60 seconds.'],
    '2msl-1-to-4-minutes': [A001, 'TIME_WAIT lasts 2MSL, which is 1 to 4 minutes depending on the implementation.'],
    'no-sysctl-shortens': [A000, 'The 60 s TIME-WAIT length cannot be tuned at run time; changing it needs a recompiled kernel (tcp_fin_timeout does not shorten it).'],
  },
  options: { 'fin-timeout': int(1, 120, 1, 'tcp_fin_timeout set before the second connection closes', 's') },
  async run(ctx, o) {
    const [present, port] = [SUSPECTS.filter(hasSysctl), ctx.port()];
    ctx.event('sysctls', `present in this kernel: ${present.join(', ')}`, { present });
    const listener = await listen({ host: LOOPBACK, port, reuseaddr: true }); ctx.defer(() => listener.close());
    const watched: (Watch & { due?: number })[] = [];
    // one ss read, made between a and b: the first that lists a socket in TIME-WAIT, the last that does, the first that does not
    const note = async (read: () => Promise<{ sockets: SockRecord[] }>) => {
      const a = ctx.elapsedMs(), xs = (await read()).sockets, b = ctx.elapsedMs();
      for (const w of watched.filter((x) => x.gone === undefined)) {
        const s = filterSockets(xs, { localPort: w.localPort, state: 'TIME-WAIT' })[0];
        if (s) Object.assign(w, w.seen ? {} : { seen: [a, b], timer: s.timer?.raw, timerMs: s.timer?.remainingMs }, { listed: a, due: a + (s.timer?.remainingMs ?? 0) });
        else if (w.seen) w.gone = b;
      }
    };
    for (const name of ['default', `tcp_fin_timeout=${o['fin-timeout']}`]) {
      if (watched.length) await ctx.sysctl('net.ipv4.tcp_fin_timeout', String(o['fin-timeout']));
      ctx.step(`close a connection from the client side (${name})`);
      const [client] = [await connect(port, LOOPBACK), await listener.nextConnection()];
      const [finTimeout, localPort, closedAt] = [Number(readSysctl('net.ipv4.tcp_fin_timeout')), client.localPort!, ctx.elapsedMs()];
      await closeActively(client);
      watched.push({ name, finTimeout, localPort, start: [closedAt, ctx.elapsedMs()], startFrom: 'close()' });
      await note(() => ctx.snapshot(`${name}: TIME-WAIT`, { focus: { port } }));
    }
    ctx.step('read ss until both TIME-WAIT sockets are gone: seldom while their timers run, every 50 ms near the end');
    const open = () => watched.filter((w) => w.seen && w.gone === undefined);
    const countdown = () => open().map((w) => `${w.name}: ${((w.due! - ctx.elapsedMs()) / 1000).toFixed(1)} s left`).join('; ');
    let next = 0;
    await until(async () => {
      if (ctx.elapsedMs() < next) return { done: false, last: undefined };
      await note(() => ctx.waitSs('the end of both TIME-WAIT sockets', () => true, { progress: true })); // one read, kept in the timeline
      next = ctx.elapsedMs() + Math.min(SLOW_MS, Math.max(FAST_MS, Math.min(...open().map((w) => w.due! - ctx.elapsedMs())) / 2));
      return open().length ? { done: false, last: undefined } : { done: true, value: undefined };
    }, { what: 'the end of both TIME-WAIT sockets', timeoutMs: 90_000, intervalMs: 20, signal: ctx.signal, describe: countdown, onProgress: () => ctx.progress(`TIME-WAIT countdown (ss timer): ${countdown()}`) });
    await ctx.snapshot('after both are gone', { focus: { port } });
    const segs = await ctx.segments();
    for (const w of watched) for (const fin of segs?.filter((s) => s.sport === port && s.dport === w.localPort && s.flags.includes('F')).slice(0, 1) ?? []) Object.assign(w, { start: [fin.atMs, fin.atMs], startFrom: "the peer's FIN" });
    return { present, watched: watched.map(({ due: _, ...w }): Watch => w) };
  },
  judge: ({ present, watched: [base, tuned] }) => {
    const [untested, armed0, armed1, life0, life1] = [present.filter((n) => /tw_timeout|timewait_len/.test(n)), armed(base), armed(tuned), life(base), life(tuned)];
    const lifetime = (w?: Watch) => `lifetime from ${w?.startFrom ?? 'its start'} until ss no longer listed it`;
    return {
      'time-wait-60s': all(
        check(`its timer (ss showed ${base?.timer ?? 'none'} when first seen, plus the time since it began)`, show(armed0), 'a range that includes 60000 ms', reaches(armed0, 60_000, 60_000)),
        check(lifetime(base), show(life0), `a range that reaches 60000-${60_000 * LATE} ms (timers fire up to 1/8 late, never early)`, reaches(life0, 60_000, 60_000 * LATE)),
      ),
      '2msl-1-to-4-minutes': check(lifetime(base), show(life0), 'a range that reaches 60000-240000 ms', reaches(life0, 60_000, 240_000)),
      'no-sysctl-shortens': all(
        need('tcp_fin_timeout was changed between the two runs', tuned?.finTimeout !== base?.finTimeout, `both ran with ${base?.finTimeout} s`),
        need('both timers and lifetimes measured', !!(armed0 && armed1 && life0 && life1), 'a TIME-WAIT socket was not seen, or not watched to its end'),
        need('this kernel has no other sysctl that may hold a TIME-WAIT length', untested.length === 0, `it has ${untested.join(', ')}, which this lab does not try`),
        check(`its timer with tcp_fin_timeout = ${tuned?.finTimeout} s`, show(armed1), `a range that meets the default's (${show(armed0) ?? 'not observed'} with ${fig(base?.finTimeout, 's')})`, !!armed0 && reaches(armed1, ...armed0)),
        check(`its ${lifetime(tuned)}`, show(life1), `a range that reaches the default's timer (${fig(armed0?.[0], 'ms')} or more)`, !!armed0 && reaches(life1, armed0[0], Infinity)),
      ),
    };
  },
  tables: ({ watched, present }) => [{
    title: 'TIME-WAIT: its timer and its lifetime (ranges: the ss reads that bracket each event)', columns: ['connection', 'tcp_fin_timeout', 'began at', 'ss timer when first seen', 'timer length', 'lifetime'],
    rows: watched.map((w) => [w.name, `${w.finTimeout} s`, w.startFrom, w.timer ?? '-', show(armed(w)) ?? '-', show(life(w)) ?? '-']),
    note: `ss prints timers above 10 s in whole seconds. Of ${SUSPECTS.join(', ')}, this kernel has ${present.join(', ')}.`,
  }],
});
