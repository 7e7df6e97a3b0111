// Tests: when the TIME-WAIT side receives the peer's FIN again (its last ACK was lost), the TIME-WAIT timer
// starts over from 60 s. The final ACK is dropped with nftables so the peer (LAST-ACK) retransmits its FIN.
import { A000 } from '../harness/lab/articles.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import { counterDelta, formatDelta, readCounters } from '../harness/kernel/counters.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { WaitTimeout } from '../harness/errors.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { closeActively, connect, listen } from '../harness/kernel/sockets.ts';
import type { SockRecord } from '../harness/evidence/ss.ts';

const HOST = '127.0.0.1';

interface Sample {
  atMs: number;
  /** the client's TIME-WAIT timer as ss printed it (whole seconds above 10 s) */
  twMs?: number;
  lastAckTimer?: string;
}

export default defineLab({
  name: 'time-wait-fin-restart',
  title: 'A FIN received again in TIME-WAIT restarts the 60 s timer',
  description:
    'The client closes a loopback connection first. An nftables rule drops its final ACK, so the server stays in ' +
    'LAST-ACK and retransmits its FIN; tcp_rto_min_us is raised inside the sandbox so the first retransmission ' +
    'comes seconds later, long enough to see the client\'s TIME-WAIT timer count down in ss (which prints whole ' +
    'seconds) before the retransmitted FIN arrives. ss is read every 100 ms; the read where the client\'s timer ' +
    'is first lower than when TIME-WAIT began, and the first read where it is higher than that, are recorded.',
  claims: [
    {
      id: 'fin-restarts-timer',
      source: A000,
      statement: 'When the side in TIME-WAIT receives the peer\'s FIN again, its 2MSL timer starts over.',
    },
  ],
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  options: {
    port: { type: 'number', min: 1024, max: 65000, default: 9300, describe: 'listening port' },
    'rto-ms': { type: 'number', min: 200, max: 10000, default: 3000, describe: 'tcp_rto_min (ms) in the sandbox: when the server retransmits its FIN' },
  },
  async run(ctx: LabContext) {
    const port = ctx.options.port as number;
    const rtoMs = ctx.options['rto-ms'] as number;
    await ctx.sysctl('net.ipv4.tcp_rto_min_us', String(rtoMs * 1000));
    const faults = await Faults.open(ctx);
    const listener = await listen({ host: HOST, port, reuseaddr: true });
    ctx.defer(() => listener.close());
    const client = await connect(port, HOST);
    await listener.nextConnection();
    const cport = client.localPort!;

    ctx.step(`drop the client's pure ACKs to :${port} (its final ACK, and any re-ACK), then close from the client`);
    const rule = await faults.drop({ kind: 'fin-ack', fromPort: cport, toPort: port }, 'the last ACK of the close');
    const before = await readCounters();
    await closeActively(client);
    const start = await ctx.waitSs(
      `TIME-WAIT on client port ${cport}`,
      (read) => filterSockets(read, { localPort: cport, state: 'TIME-WAIT' }).length === 1,
      { label: 'client in TIME-WAIT, server in LAST-ACK', focus: { port } },
    );

    ctx.step('read ss every 100 ms: until the client\'s TIME-WAIT timer has counted down, then until it goes back up (or the server gave up)');
    const samples: Sample[] = [];
    const sample = (read: SockRecord[]): Sample => {
      const [tw] = filterSockets(read, { localPort: cport, state: 'TIME-WAIT' });
      const [la] = filterSockets(read, { localPort: port, peerPort: cport, state: 'LAST-ACK' });
      const s: Sample = { atMs: ctx.elapsedMs(), twMs: tw?.timer?.remainingMs, lastAckTimer: la?.timer?.raw };
      samples.push(s);
      return s;
    };
    const live = (_ms: number, read: SockRecord[] | undefined) => {
      const [tw] = read ? filterSockets(read, { localPort: cport, state: 'TIME-WAIT' }) : [];
      const [la] = read ? filterSockets(read, { localPort: port, peerPort: cport, state: 'LAST-ACK' }) : [];
      return `client TIME-WAIT timer ${tw?.timer?.remainingMs !== undefined ? `${tw.timer.remainingMs / 1000} s` : 'gone'}; server LAST-ACK ${la?.timer?.raw ?? 'gone'}`;
    };
    const twOf = (snap: SnapshotRecord | undefined) => (snap ? filterSockets(snap.sockets, { localPort: cport, state: 'TIME-WAIT' })[0]?.timer?.remainingMs : undefined);
    /** a labelled read satisfying `ready`, or (on timeout) a plain snapshot under `missed` and undefined */
    const waitRead = async (what: string, label: string, missed: string, ready: (s: Sample) => boolean) => {
      try {
        return await ctx.waitSs(what, (read) => ready(sample(read)), { timeoutMs: rtoMs * 3 + 3000, intervalMs: 100, label, focus: { port }, progress: live });
      } catch (err) {
        if (!(err instanceof WaitTimeout)) throw err;
        await ctx.snapshot(missed, { focus: { port } });
        return undefined;
      }
    };
    const startMs = twOf(start);
    // leaving TIME-WAIT ends either wait: there is nothing left to restart
    const low = await waitRead('the TIME-WAIT timer counting down', 'client TIME-WAIT timer counted down', 'client TIME-WAIT timer never counted down',
      (s) => s.twMs === undefined || (startMs !== undefined && s.twMs < startMs));
    const lowMs = twOf(low);
    const up = lowMs === undefined ? undefined : await waitRead('the TIME-WAIT timer going back up', 'client TIME-WAIT timer back up', 'client TIME-WAIT timer never went back up',
      (s) => s.twMs === undefined || s.twMs > lowMs);
    const upMs = twOf(up);
    const jump = low && up && lowMs !== undefined && upMs !== undefined && upMs > lowMs ? { from: { atMs: low.atMs, twMs: lowMs }, to: { atMs: up.atMs, twMs: upMs } } : undefined;
    const dropped = await faults.lift(rule, 'done');
    const delta = counterDelta(before, await readCounters(), ['Tcp.RetransSegs', 'TcpExt.TCPLossProbes', 'TcpExt.TCPTimeouts', 'Tcp.OutSegs']);
    ctx.event('counters', `while waiting: ${formatDelta(delta)}`, delta);
    await ctx.snapshot('after the retransmitted FIN', { focus: { port } });

    // the countdown, one row per change of either timer
    const rows: string[][] = [];
    for (const s of samples) {
      const last = rows.at(-1);
      const row = [`${(s.atMs / 1000).toFixed(1)} s`, s.twMs !== undefined ? `${s.twMs / 1000} s` : 'gone', s.lastAckTimer ?? 'gone'];
      if (!last || last[1] !== row[1]) rows.push(row);
    }
    ctx.table({
      title: `Client TIME-WAIT timer vs server LAST-ACK (final ACK dropped, tcp_rto_min ${rtoMs} ms)`,
      columns: ['lab time', 'client TIME-WAIT timer (ss)', 'server LAST-ACK timer (ss)'],
      rows,
      note: `nft dropped ${dropped} ACK segment(s) from :${cport}.`,
    });

    // the server's FIN went out again: the kernel counts the retransmission (a tail-loss probe or an RTO),
    // and the client, in TIME-WAIT, answered it with a second ACK that the rule also dropped
    const resent = (delta['Tcp.RetransSegs'] ?? 0) >= 1 && dropped >= 2;
    const minTw = Math.min(...samples.filter((s) => s.twMs !== undefined).map((s) => s.twMs!));
    const how = `server FIN retransmissions: Tcp.RetransSegs +${delta['Tcp.RetransSegs'] ?? 0} (TCPLossProbes +${delta['TcpExt.TCPLossProbes'] ?? 0}, TCPTimeouts +${delta['TcpExt.TCPTimeouts'] ?? 0}); nft dropped ${dropped} ACK(s) from the client (the final one${dropped >= 2 ? ' and the re-ACK of the repeated FIN' : ''})`;
    if (!resent) {
      ctx.verdict('fin-restarts-timer', 'inconclusive', `no repeated FIN was seen (${how}); ${samples.length} reads`);
    } else if (lowMs === undefined) {
      ctx.verdict(
        'fin-restarts-timer',
        'inconclusive',
        `The FIN came again (${how}), but the client's TIME-WAIT timer was never seen below its first reading (${startMs !== undefined ? `${startMs / 1000} s` : 'none'}), so a restart could not be told apart.`,
      );
    } else if (jump) {
      ctx.event('restart', `TIME-WAIT timer went from ${jump.from.twMs / 1000} s to ${jump.to.twMs / 1000} s at ${(jump.to.atMs / 1000).toFixed(1)} s`, { ...jump });
      ctx.verdict(
        'fin-restarts-timer',
        'confirmed',
        `The client's TIME-WAIT timer counted down from ${startMs! / 1000} s to ${minTw / 1000} s, then went back to ${jump.to.twMs / 1000} s at ${(jump.to.atMs / 1000).toFixed(1)} s, when the server (LAST-ACK) re-sent its FIN; ${how}. ` +
          'The kernel re-arms the timer with the full TCP_TIMEWAIT_LEN (60 s) when a FIN arrives again in TIME-WAIT (tcp_timewait_state_process).',
      );
    } else {
      ctx.verdict(
        'fin-restarts-timer',
        'refuted',
        `The FIN came again (${how}) but the TIME-WAIT timer never went above ${lowMs / 1000} s (lowest ${minTw / 1000} s, ${upMs !== undefined ? `last ${upMs / 1000} s` : 'then gone'}, ${samples.length} reads).`,
      );
    }
  },
});
