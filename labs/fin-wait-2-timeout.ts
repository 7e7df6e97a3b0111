// FIN-WAIT-2 after close(), after shutdown(), and with TCP_LINGER2 < 0: which ones does tcp_fin_timeout end?
import { A003, Faults, NFT_INSTALL, all, atLeast, check, defineLab, every, endIn, int, is, need, no, pair, setSockOpts, stateIn, waitForEnd, yes, type End } from '../harness/index.ts';

export default defineLab({
  title: 'FIN-WAIT-2: reaped after tcp_fin_timeout after close(), kept after shutdown(), skipped with TCP_LINGER2 < 0',
  seconds: 3,
  setup:
    'tcp_fin_timeout is set low inside the sandbox. Three clients connect to servers that never answer a FIN: one ' +
    'calls close(), one shutdown(SHUT_WR) and keeps its socket, one sets TCP_LINGER2 = -1 and calls close(). ss is read ' +
    'every 0.1 s: the orphan\'s kernel timer running down, the half-closed socket outliving it, and the ' +
    'TCP_LINGER2 one that never shows FIN-WAIT-2 (an nft rule counts the RST it sends instead).',
  claims: {
    'orphan-fin-wait-2-reaped': [A003, 'A connection closed with close() that sits in FIN_WAIT_2 (the peer never sends its FIN) is dropped by the kernel after tcp_fin_timeout (60 s by default).'],
    'shutdown-fin-wait-2-unbounded': [A003, "After shutdown(SHUT_WR) with the socket still open, FIN_WAIT_2 is not limited by tcp_fin_timeout: it waits for the peer's FIN (or a close()) indefinitely."],
    'linger2-negative-skips': [A003, 'With TCP_LINGER2 set below zero, a closed socket does not wait in FIN_WAIT_2: the kernel destroys it (sending a reset) instead.'],
  },
  options: {
    'fin-timeout': int(1, 30, 1, 'tcp_fin_timeout set inside the sandbox (short, so the watch ends soon)', 's'),
    outlive: int(1, 4, 2, 'watch until this many times tcp_fin_timeout (2 or more is needed to outlast the orphan)', 'x tcp_fin_timeout'),
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    const finTimeout = Number(await ctx.sysctl('net.ipv4.tcp_fin_timeout', String(o['fin-timeout'])));
    ctx.step('three connections whose server end never sends its FIN');
    const faultsP = Faults.open(ctx); // nft's table is made while the connections open
    const [closed, half, lingered, faults] = [await pair(ctx), await pair(ctx), await pair(ctx), await faultsP];
    const end = (p: typeof closed, name: string): End => ({ ...p.ends.client, name });
    const [ce, he, le] = [end(closed, 'close()'), end(half, 'shutdown()'), end(lingered, 'TCP_LINGER2=-1')];
    const linger2 = setSockOpts(lingered.client, { linger2: -1 }).linger2!;
    const rsts = await faults.count({ kind: 'rst', fromPort: le.localPort }, 'count resets sent by the TCP_LINGER2 socket');
    ctx.step('close() on the first, shutdown(SHUT_WR) on the second, close() with TCP_LINGER2=-1 on the third');
    const t0 = ctx.elapsedMs();
    closed.client.destroy(); half.client.end(); lingered.client.destroy();
    const first = await waitForEnd(ctx, he, 'FIN-WAIT-2', { label: 'just after the calls' });
    const [orphan0, linger0] = [endIn(first, ce), stateIn(first, le)];
    // a socket ss no longer lists sends nothing more: its resets can be counted (nft) while the watch goes on
    const rstsP = linger0 === 'absent' ? faults.lift(rsts) : undefined;
    ctx.step(`read ss every 0.1 s for ${o.outlive} x tcp_fin_timeout = ${o.outlive * finTimeout} s`);
    const samples: { t: number; orphan: string; timer?: string; half: string; halfTimer?: string; linger: string }[] = [];
    let goneAtMs: number | undefined;
    const last = await ctx.waitSs(`the end of a ${o.outlive * finTimeout} s watch`, (xs) => {
      const t = ctx.elapsedMs() - t0;
      samples.push({ t, orphan: stateIn(xs, ce), timer: endIn(xs, ce)?.timer?.raw, half: stateIn(xs, he), halfTimer: endIn(xs, he)?.timer?.raw, linger: stateIn(xs, le) });
      if (goneAtMs === undefined && !endIn(xs, ce)) goneAtMs = t;
      return t >= o.outlive * finTimeout * 1000 || stateIn(xs, he) !== 'FIN-WAIT-2';
    }, { intervalMs: 100, timeoutMs: o.outlive * finTimeout * 1000 + 5000, label: 'end of the watch', progress: (ms) => `close(): ${samples.at(-1)?.orphan} ${samples.at(-1)?.timer ?? ''}; shutdown(): ${samples.at(-1)?.half} [${(ms / 1000).toFixed(1)} s]` });
    return {
      finTimeout, watchedMs: samples.at(-1)!.t, goneAtMs, orphanFirst: orphan0?.state ?? 'absent', orphanTimer: orphan0?.timer?.raw,
      halfLast: stateIn(last, he), halfAlways: samples.every((s) => s.half === 'FIN-WAIT-2'), halfTimers: [...new Set(samples.flatMap((s) => (s.halfTimer ? [s.halfTimer.replace(/,[^,]*,/, ',')] : [])))],
      linger2, lingerFirst: linger0, lingerSeenFw2: samples.some((s) => s.linger === 'FIN-WAIT-2'), rsts: await (rstsP ?? faults.lift(rsts)),
      samples: samples.filter((s, i) => i === 0 || s.orphan !== samples[i - 1].orphan || i % 5 === 0),
    };
  },
  judge: (ev) => {
    const [lo, hi] = [ev.finTimeout * 1000 - 600, ev.finTimeout * 1000 + 1000]; // timer granularity, the reads and a busy machine
    return {
      'orphan-fin-wait-2-reaped': all(
        need('the close() client was in FIN-WAIT-2 after the call', ev.orphanFirst === 'FIN-WAIT-2', `it was ${ev.orphanFirst}`),
        need(`the watch outlasted tcp_fin_timeout + 1 s (${hi} ms)`, ev.goneAtMs !== undefined || ev.watchedMs >= hi, `the watch ended ${ev.watchedMs} ms after close()`),
        check(`the orphan left ss after close() (timer at start ${ev.orphanTimer ?? 'none'})`, ev.goneAtMs ?? `still there after ${ev.watchedMs} ms`, `${lo}-${hi} ms (tcp_fin_timeout = ${ev.finTimeout} s)`, ev.goneAtMs !== undefined && ev.goneAtMs >= lo && ev.goneAtMs <= hi, 'ms'),
      ),
      'shutdown-fin-wait-2-unbounded': every(
        need(`the watch outlasted tcp_fin_timeout + 1 s (${hi} ms), or the socket left FIN-WAIT-2 first`, ev.watchedMs >= hi || !ev.halfAlways, `the watch ended ${ev.watchedMs} ms after shutdown()`),
        yes(`the shutdown() client in FIN-WAIT-2 in every read over ${ev.watchedMs} ms (last: ${ev.halfLast})`, ev.halfAlways),
        is('kernel timers ss showed on it', ev.halfTimers.join(', ') || 'none', 'none'),
      ),
      'linger2-negative-skips': all(
        need('TCP_LINGER2 read back below zero', ev.linger2 < 0, `it read back ${ev.linger2}`),
        no('the TCP_LINGER2 client seen in FIN-WAIT-2', ev.lingerSeenFw2),
        is('its state in the first read after close()', ev.lingerFirst, 'absent'),
        atLeast('RST segments it sent (nft counter)', ev.rsts, 1),
      ),
    };
  },
  tables: (ev) => [{
    title: `ss after the calls (tcp_fin_timeout = ${ev.finTimeout} s)`,
    columns: ['t', 'close() client', 'its timer', 'shutdown() client', 'TCP_LINGER2 client'],
    rows: ev.samples.map((s) => [`${(s.t / 1000).toFixed(1)} s`, s.orphan, s.timer ?? '-', `${s.half}${s.halfTimer ? ` ${s.halfTimer}` : ''}`, s.linger]),
  }],
});
