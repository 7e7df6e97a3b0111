// FIN-WAIT-2 after close(), after shutdown(), and with TCP_LINGER2 < 0: which ones does tcp_fin_timeout end? The orphan's times come
// from what the kernel shows (a slow harness widens the ranges, not the figures): its wait starts when its FIN is ACKed (capture; else
// between close() and the first read), its timer is the ss timer at first sight plus the time since, it ends between two reads.
import { A003, Faults, NFT_INSTALL, all, atLeast, check, defineLab, every, endIn, int, is, need, no, pair, readSockets, setSockOpts, stateIn, waitForEnd, yes, type End, type SockRecord } from '../harness/index.ts';

const [SLOP, LATE] = [10, 1.125]; // ms added to every bound (a jiffy at HZ=100, ms clocks); timers fire late, never early: the timer wheel by at most 1/8
type Range = [number, number];
const show = (r?: Range) => r && `${r[0]}-${r[1]} ms`;
const reaches = (r: Range | undefined, lo: number, hi: number) => r !== undefined && r[0] <= hi && r[1] >= lo;

export default defineLab({
  title: 'FIN-WAIT-2: reaped after tcp_fin_timeout after close(), kept after shutdown(), skipped with TCP_LINGER2 < 0',
  seconds: 3,
  setup: 'tcp_fin_timeout is set low inside the sandbox (higher where ss is slow to read). Three clients connect to servers that never answer a FIN: one ' +
    'calls close(), one shutdown(SHUT_WR) and keeps its socket, one sets TCP_LINGER2 = -1 and calls close(). ss is read every 0.1 s: ' +
    "the orphan's kernel timer running down, the half-closed socket outliving it, and the TCP_LINGER2 one that never shows FIN-WAIT-2 (an nft rule counts the RST it sends instead).",
  claims: {
    'orphan-fin-wait-2-reaped': [A003, 'A connection closed with close() that sits in FIN_WAIT_2 (the peer never sends its FIN) is dropped by the kernel after tcp_fin_timeout (60 s by default).'],
    'shutdown-fin-wait-2-unbounded': [A003, "After shutdown(SHUT_WR) with the socket still open, FIN_WAIT_2 is not limited by tcp_fin_timeout: it waits for the peer's FIN (or a close()) indefinitely."],
    'linger2-negative-skips': [A003, 'With TCP_LINGER2 set below zero, a closed socket does not wait in FIN_WAIT_2: the kernel destroys it (sending a reset) instead.'],
  },
  options: { 'fin-timeout': int(1, 30, 1, 'tcp_fin_timeout set inside the sandbox (short, so the watch ends soon)', 's'),
    outlive: int(1, 4, 2, 'watch until this many times tcp_fin_timeout (2 or more is needed to outlast the orphan)', 'x tcp_fin_timeout') },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    ctx.step('three connections whose server end never sends its FIN');
    const faultsP = Faults.open(ctx); // nft's table is made while the connections open
    const [closed, half, lingered, faults] = [await pair(ctx), await pair(ctx), await pair(ctx), await faultsP];
    const [ce, he, le] = ([[closed, 'close()'], [half, 'shutdown()'], [lingered, 'TCP_LINGER2=-1']] as const).map(([p, name]): End => ({ ...p.ends.client, name }));
    const [linger2, rsts] = [setSockOpts(lingered.client, { linger2: -1 }).linger2!, await faults.count({ kind: 'rst', fromPort: le.localPort }, 'count resets sent by the TCP_LINGER2 socket')];
    // ss must see the orphan well before its timer runs out: where a read is slow (an emulated guest) tcp_fin_timeout gets room, x a power of 2 (the judge takes the value set)
    const timed = async () => { const t = ctx.elapsedMs(); await readSockets(ctx.host); return ctx.elapsedMs() - t; };
    const readMs = (await timed(), await timed()), pace = 2 ** Math.max(0, Math.ceil(Math.log2((4 * readMs) / (o['fin-timeout'] * 1000)))); // the first read may load ss cold
    const finTimeout = Number(await ctx.sysctl('net.ipv4.tcp_fin_timeout', String(Math.min(60, o['fin-timeout'] * pace))));
    if (pace > 1) ctx.note(`tcp_fin_timeout ${finTimeout} s, not ${o['fin-timeout']} s: a read of ss took ${readMs} ms here, and ss must see the orphan before it goes`);
    ctx.step('close() on the first, shutdown(SHUT_WR) on the second, close() with TCP_LINGER2=-1 on the third');
    const t0 = ctx.elapsedMs();
    closed.client.destroy(); half.client.end(); lingered.client.destroy();
    const past = (e: End) => (xs: SockRecord[]) => !['ESTAB', 'FIN-WAIT-1'].includes(stateIn(xs, e)), first = await ctx.waitSs('the close() client past FIN-WAIT-1', past(ce), { label: 'just after the calls' });
    const [orphan0, linger0, both] = [endIn(first, ce), stateIn(past(le)(first.sockets) ? first : await ctx.waitSs('the TCP_LINGER2 client past FIN-WAIT-1', past(le)), le), (await waitForEnd(ctx, he, 'FIN-WAIT-2'), ctx.elapsedMs())]; // TCP_LINGER2's FIN went out last: its state once acknowledged
    let [prevEnd, from, listed, gone] = [both, t0, t0, undefined as number | undefined]; // a read begins after the last one ended
    const rstsP = linger0 === 'absent' ? faults.lift(rsts) : undefined; // a socket ss no longer lists sends nothing more: count its resets now
    ctx.step(`read ss every 0.1 s for ${o.outlive} x tcp_fin_timeout = ${o.outlive * finTimeout} s`);
    const samples: { t: number; orphan: string; timer?: string; half: string; halfTimer?: string; linger: string }[] = [];
    const last = await ctx.waitSs(`the end of a ${o.outlive * finTimeout} s watch`, (xs) => {
      [from, prevEnd] = [prevEnd, ctx.elapsedMs()];
      samples.push({ t: prevEnd - t0, orphan: stateIn(xs, ce), timer: endIn(xs, ce)?.timer?.raw, half: stateIn(xs, he), halfTimer: endIn(xs, he)?.timer?.raw, linger: stateIn(xs, le) });
      if (gone === undefined) endIn(xs, ce) ? (listed = from) : (gone = prevEnd);
      return from - both >= o.outlive * finTimeout * 1000 || stateIn(xs, he) !== 'FIN-WAIT-2';
    }, { intervalMs: 100, timeoutMs: o.outlive * finTimeout * 1000 + 5000, label: 'end of the watch', progress: (ms) => `close(): ${samples.at(-1)?.orphan} ${samples.at(-1)?.timer ?? ''}; shutdown(): ${samples.at(-1)?.half} [${(ms / 1000).toFixed(1)} s]` });
    // the server's only bare ACK (the client sends no data) is that of the orphan's FIN, which starts its FIN-WAIT-2
    const ack = (await ctx.segments())?.find((s) => s.sport === ce.peerPort && s.dport === ce.localPort && s.flags === '.');
    return {
      finTimeout, watchedMs: from - both, start: (ack ? [ack.atMs, ack.atMs] : [t0, first.atMs]) as Range, startFrom: ack ? 'the ACK of its FIN' : 'close()',
      seen: [t0, first.atMs] as Range, listed, gone, orphanFirst: orphan0?.state ?? 'absent', orphanTimer: orphan0?.timer?.raw, orphanTimerMs: orphan0?.timer?.remainingMs,
      halfLast: stateIn(last, he), halfAlways: samples.every((s) => s.half === 'FIN-WAIT-2'), halfTimers: [...new Set(samples.flatMap((s) => (s.halfTimer ? [s.halfTimer.replace(/,[^,]*,/, ',')] : [])))],
      linger2, lingerFirst: linger0, lingerSeenFw2: samples.some((s) => s.linger === 'FIN-WAIT-2'), rsts: await (rstsP ?? faults.lift(rsts)),
      samples: samples.filter((s, i) => i === 0 || s.orphan !== samples[i - 1].orphan || i % 5 === 0),
    };
  },
  judge: (ev) => {
    const [ms, reapBy, res] = [ev.finTimeout * 1000, Math.round(ev.finTimeout * 1000 * LATE), (ev.orphanTimerMs ?? 0) >= 10_000 ? 1000 : 0];
    const armed: Range | undefined = ev.orphanTimerMs === undefined ? undefined : [Math.max(0, ev.seen[0] + ev.orphanTimerMs - ev.start[1] - SLOP), ev.seen[1] + ev.orphanTimerMs + res - ev.start[0] + SLOP];
    const life: Range | undefined = ev.gone === undefined ? undefined : [Math.max(0, ev.listed - ev.start[1] - SLOP), ev.gone - ev.start[0] + SLOP];
    const watched = `the watch outlasted tcp_fin_timeout and the timer's lateness (${reapBy} ms) after both were seen in FIN-WAIT-2`;
    return {
      'orphan-fin-wait-2-reaped': all(
        need('the close() client was in FIN-WAIT-2 after the call', ev.orphanFirst === 'FIN-WAIT-2', `it was ${ev.orphanFirst}`),
        need(watched, life !== undefined || ev.watchedMs >= reapBy, `it ended after ${ev.watchedMs} ms`),
        check(`its timer (ss showed ${ev.orphanTimer ?? 'none'} when first seen, plus the time since ${ev.startFrom})`, show(armed) ?? 'no timer', `a range that includes ${ms} ms (tcp_fin_timeout)`, reaches(armed, ms, ms)),
        check(`time from ${ev.startFrom} until ss no longer listed it`, show(life) ?? `still listed ${ev.listed - ev.start[1]} ms after`, `a range that reaches ${ms}-${reapBy} ms (timers fire up to 1/8 late, never early)`, reaches(life, ms, reapBy)),
      ),
      'shutdown-fin-wait-2-unbounded': every(
        need(`${watched}, or the socket left FIN-WAIT-2 first`, ev.watchedMs >= reapBy || !ev.halfAlways, `it ended after ${ev.watchedMs} ms`),
        yes(`the shutdown() client in FIN-WAIT-2 in every read over ${ev.watchedMs} ms (last: ${ev.halfLast})`, ev.halfAlways),
        is('kernel timers ss showed on it', ev.halfTimers.join(', ') || 'none', 'none'),
      ),
      'linger2-negative-skips': all(
        need('TCP_LINGER2 read back below zero', ev.linger2 < 0, `it read back ${ev.linger2}`),
        no('the TCP_LINGER2 client seen in FIN-WAIT-2', ev.lingerSeenFw2),
        is('its state once its FIN was acknowledged (the first read past FIN-WAIT-1)', ev.lingerFirst, 'absent'),
        atLeast('RST segments it sent (nft counter)', ev.rsts, 1),
      ),
    };
  },
  tables: (ev) => [{
    title: `ss after the calls (tcp_fin_timeout = ${ev.finTimeout} s)`, columns: ['t', 'close() client', 'its timer', 'shutdown() client', 'TCP_LINGER2 client'],
    rows: ev.samples.map((s) => [`${(s.t / 1000).toFixed(1)} s`, s.orphan, s.timer ?? '-', `${s.half}${s.halfTimer ? ` ${s.halfTimer}` : ''}`, s.linger]),
  }],
});
