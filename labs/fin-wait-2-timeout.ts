// Tests: article 003 on FIN-WAIT-2 — after close() the orphaned FIN-WAIT-2 is reaped after tcp_fin_timeout;
// after shutdown(SHUT_WR) with the socket still open it is not; TCP_LINGER2 < 0 skips FIN-WAIT-2 altogether.
import { setTimeout as sleep } from 'node:timers/promises';
import { A003 } from '../harness/lab/articles.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { describeEnd, endIn, endsOf, stateIn, waitForEnd, type End } from '../harness/lab/endpoints.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { IPPROTO_TCP, TCP_LINGER2, getIntOption, setIntOption } from '../harness/kernel/ffi.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { fdOf, openPair } from '../harness/kernel/sockets.ts';

const HOST = '127.0.0.1';

export default defineLab({
  name: 'fin-wait-2-timeout',
  title: 'FIN-WAIT-2: reaped after tcp_fin_timeout after close(), kept after shutdown(), skipped with TCP_LINGER2 < 0',
  description:
    'tcp_fin_timeout is set low inside the sandbox. Three clients connect to a server that never answers a FIN. ' +
    'One client calls close(), one calls shutdown(SHUT_WR) and keeps its socket, one sets TCP_LINGER2 = -1 and ' +
    'calls close(). The lab samples ss every half second: the kernel timer of the orphaned FIN-WAIT-2 running ' +
    'down, the half-closed one outliving it, and the TCP_LINGER2 one that never shows FIN-WAIT-2 (an nft rule ' +
    'counts the RST it sends instead).',
  claims: [
    {
      id: 'orphan-fin-wait-2-reaped',
      source: A003,
      statement: 'A connection closed with close() that sits in FIN_WAIT_2 (the peer never sends its FIN) is dropped by the kernel after tcp_fin_timeout (60 s by default).',
    },
    {
      id: 'shutdown-fin-wait-2-unbounded',
      source: A003,
      statement: 'After shutdown(SHUT_WR) with the socket still open, FIN_WAIT_2 is not limited by tcp_fin_timeout: it waits for the peer\'s FIN (or a close()) indefinitely.',
    },
    {
      id: 'linger2-negative-skips',
      source: A003,
      statement: 'With TCP_LINGER2 set below zero, a closed socket does not wait in FIN_WAIT_2: the kernel destroys it (sending a reset) instead.',
    },
  ],
  options: {
    'fin-timeout': { type: 'number', min: 1, max: 60, default: 3, describe: 'tcp_fin_timeout (s) set inside the sandbox' },
    outlive: { type: 'number', min: 1, max: 10, default: 2, describe: 'watch the shutdown() socket until this many times tcp_fin_timeout' },
    port: { type: 'number', min: 1024, max: 60000, default: 9000, describe: 'server port of the close() client (shutdown() and TCP_LINGER2 use the next two)' },
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx: LabContext) {
    const asked = ctx.options['fin-timeout'] as number;
    const outlive = ctx.options.outlive as number;
    const P = ctx.options.port as number;
    const finTimeout = Number(await ctx.sysctl('net.ipv4.tcp_fin_timeout', String(asked))); // as the kernel reads it back
    const faults = await Faults.open(ctx);

    ctx.step(`three connections (to :${P}, :${P + 1}, :${P + 2}) whose server end never sends its FIN`);
    const open = async (name: string, port: number) => {
      const { client, server, clientPort } = await openPair((fn) => ctx.defer(fn), port, { host: HOST });
      const e = endsOf(clientPort, port);
      return { client, server, end: { ...e.client, name } as End, serverEnd: { ...e.server, name: `server of ${name}` } as End };
    };
    const closed = await open('close()', P);
    const half = await open('shutdown()', P + 1);
    const lingered = await open('TCP_LINGER2=-1', P + 2);
    setIntOption(fdOf(lingered.client), IPPROTO_TCP, TCP_LINGER2, -1);
    const linger2 = getIntOption(fdOf(lingered.client), IPPROTO_TCP, TCP_LINGER2);
    ctx.event('sockopt', `TCP_LINGER2 on :${lingered.end.localPort} reads back ${linger2}`, { port: lingered.end.localPort, linger2 });
    const rsts = await faults.count({ kind: 'rst', fromPort: lingered.end.localPort }, 'count resets sent by the TCP_LINGER2 socket');

    ctx.step('close() on the first, shutdown(SHUT_WR) on the second, close() with TCP_LINGER2=-1 on the third');
    const t0 = Date.now();
    closed.client.destroy();
    half.client.end();
    lingered.client.destroy();
    // the reference time of every "after close()" figure below (snapshot atMs minus this event's atMs)
    const calls = ctx.event('call', `close() on :${closed.end.localPort}, shutdown(SHUT_WR) on :${half.end.localPort}, close() with TCP_LINGER2=-1 on :${lingered.end.localPort}`, {
      closePort: closed.end.localPort,
      shutdownPort: half.end.localPort,
      lingerPort: lingered.end.localPort,
    });
    // the orphan counts as reaped "after tcp_fin_timeout" when it leaves ss in this window (timer granularity
    // and the 0.5 s sampling make it late by up to ~1 s; the timer may have started a little before close() returned)
    const lo = finTimeout * 1000 - 600;
    const hi = finTimeout * 1000 + 1000;
    ctx.event('window', `the orphaned FIN-WAIT-2 should leave ss ${lo}..${hi} ms after close() (tcp_fin_timeout = ${finTimeout} s)`, { lo, hi, finTimeout });
    await waitForEnd(ctx, closed.end, 'FIN-WAIT-2');
    const first = await waitForEnd(ctx, half.end, 'FIN-WAIT-2', { label: 'just after the calls' });

    ctx.step(`watch the timers for ${outlive} x tcp_fin_timeout = ${outlive * finTimeout} s`);
    const rows: string[][] = [];
    let goneAtMs: number | undefined;
    let last: SnapshotRecord = first;
    const samples: SnapshotRecord[] = [first];
    const sample = (snap: SnapshotRecord) => {
      const t = ((snap.atMs - calls.atMs) / 1000).toFixed(1);
      const left = endIn(snap, closed.end)?.timer?.remainingMs;
      rows.push([`${t} s`, describeEnd(snap, closed.end), left === undefined ? '-' : `${left} ms`, describeEnd(snap, half.end), stateIn(snap, closed.serverEnd)]);
    };
    sample(first);
    while (Date.now() - t0 < outlive * finTimeout * 1000) {
      await sleep(500);
      const t = (Date.now() - t0) / 1000;
      last = await ctx.snapshot(`t=${t.toFixed(1)}s`, { focus: { localPort: closed.end.localPort } });
      samples.push(last);
      sample(last);
      if (goneAtMs === undefined && !endIn(last, closed.end)) goneAtMs = last.atMs - calls.atMs;
      const timer = endIn(last, closed.end)?.timer;
      ctx.progress(`t=${t.toFixed(1)} s: close() socket ${stateIn(last, closed.end)}${timer ? ` ${timer.raw}` : ''}; shutdown() socket ${stateIn(last, half.end)}`);
    }
    if (goneAtMs !== undefined) ctx.event('expire', `the orphaned FIN-WAIT-2 (close()) left ss ${goneAtMs} ms after close(); tcp_fin_timeout = ${finTimeout} s`, { afterMs: goneAtMs, finTimeout });
    const rstCount = await faults.lift(rsts);

    ctx.table({
      title: `ss every 0.5 s after the calls (tcp_fin_timeout = ${finTimeout} s)`,
      columns: ['t', 'client that called close()', 'its timer', 'client that called shutdown(SHUT_WR)', 'server end of the close() client'],
      rows,
      note: `The TCP_LINGER2=-1 client (:${lingered.end.localPort}) was ${stateIn(first, lingered.end)} in the first sample; ${rstCount} RST segment(s) from it were counted.`,
    });

    // --- verdicts ----------------------------------------------------------------------------------------------
    const timer0 = endIn(first, closed.end)?.timer;
    if (stateIn(first, closed.end) !== 'FIN-WAIT-2') {
      ctx.verdict('orphan-fin-wait-2-reaped', 'inconclusive', `the close() client was not in FIN-WAIT-2 in the first sample (${describeEnd(first, closed.end)}), so there was no orphan to watch`);
    } else if (goneAtMs !== undefined && goneAtMs >= lo && goneAtMs <= hi) {
      ctx.verdict('orphan-fin-wait-2-reaped', 'confirmed', `After close() the client sat in FIN-WAIT-2 with a kernel timer (${timer0?.raw ?? 'no timer shown'}) counting down from tcp_fin_timeout = ${finTimeout} s and left ss ${goneAtMs} ms after close() (sampled every 0.5 s; window ${lo}..${hi} ms). Its peer, which never closed, stayed in ${stateIn(last, closed.serverEnd)}: reaping one end does not tell the other.`);
    } else if (goneAtMs !== undefined) {
      ctx.verdict('orphan-fin-wait-2-reaped', 'partly', `The orphaned FIN-WAIT-2 was reaped, but ${goneAtMs} ms after close(), outside ${lo}..${hi} ms for tcp_fin_timeout = ${finTimeout} s (timer at start: ${timer0?.raw ?? 'none'}).`);
    } else {
      ctx.verdict('orphan-fin-wait-2-reaped', stateIn(last, closed.end) === 'FIN-WAIT-2' ? 'refuted' : 'inconclusive', `After ${outlive * finTimeout} s the close() client was still ${describeEnd(last, closed.end)}.`);
    }

    const halfAlive = samples.every((s) => stateIn(s, half.end) === 'FIN-WAIT-2');
    const halfTimers = samples.map((s) => endIn(s, half.end)?.timer).filter((t) => t !== undefined);
    const watchedMs = last.atMs - first.atMs;
    if (halfAlive && goneAtMs !== undefined) {
      ctx.verdict('shutdown-fin-wait-2-unbounded', 'confirmed', `The client that only called shutdown(SHUT_WR) was in FIN-WAIT-2 in all ${samples.length} samples over ${(watchedMs / 1000).toFixed(1)} s, outliving the orphaned one (reaped at ${goneAtMs} ms) by ${((watchedMs - goneAtMs) / 1000).toFixed(1)} s, with ${halfTimers.length ? `a timer (${halfTimers[0]!.raw})` : 'no kernel timer armed'} (${describeEnd(last, half.end)}). A run cannot show "forever"; it shows that tcp_fin_timeout does not apply and that no timer would end it.`);
    } else {
      ctx.verdict('shutdown-fin-wait-2-unbounded', halfAlive ? 'inconclusive' : 'refuted', `shutdown() client in FIN-WAIT-2 in every sample: ${halfAlive}; last: ${describeEnd(last, half.end)}; orphan reaped at ${goneAtMs ?? 'never'} ms`);
    }

    const lingerSeen = samples.some((s) => stateIn(s, lingered.end) === 'FIN-WAIT-2');
    const serverGone = stateIn(first, lingered.serverEnd) === 'absent';
    if (linger2 < 0 && !lingerSeen && stateIn(first, lingered.end) === 'absent' && rstCount > 0) {
      ctx.verdict('linger2-negative-skips', 'confirmed', `With TCP_LINGER2 = ${linger2} the client was already gone from ss in the first sample after close() (never FIN-WAIT-2), and ${rstCount} RST segment(s) left it: the kernel destroyed the socket as soon as its FIN was ACKed and reset the peer, whose end was ${serverGone ? 'gone too' : stateIn(first, lingered.serverEnd)}.`);
    } else {
      ctx.verdict('linger2-negative-skips', lingerSeen ? 'refuted' : 'inconclusive', `TCP_LINGER2 read back ${linger2}; client seen in FIN-WAIT-2: ${lingerSeen}; first sample: ${describeEnd(first, lingered.end)}; RSTs counted ${rstCount}`);
    }
  },
});
