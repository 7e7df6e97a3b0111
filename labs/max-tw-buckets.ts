// Tests: what happens when TIME-WAIT sockets exceed tcp_max_tw_buckets: are all existing ones cleared at
// once, or are only the new ones denied TIME-WAIT? And which counters move.
import { A000 } from '../harness/lab/articles.ts';
import { counterDelta, formatDelta, readCounters } from '../harness/kernel/counters.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { defineLab } from '../harness/lab/define.ts';
import { closeActively, connect, listen } from '../harness/kernel/sockets.ts';
import { portOf } from '../harness/evidence/ss.ts';
import { readSysctl } from '../harness/kernel/sysctl.ts';

const HOST = '127.0.0.1';

export default defineLab({
  name: 'max-tw-buckets',
  title: 'tcp_max_tw_buckets: what happens to TIME-WAIT sockets over the limit',
  description:
    'tcp_max_tw_buckets is set low inside the sandbox. Clients close loopback connections first until the ' +
    'limit is reached (each leaves a TIME-WAIT socket), then close more. The lab checks, by local port, ' +
    'whether the TIME-WAIT sockets made before the limit survive and whether the new ones ever appear, and ' +
    'diffs the TCP counters (/proc/net/netstat, what nstat reads) across the overflow.',
  claims: [
    {
      id: 'overflow-clears-all',
      source: A000,
      statement: 'When the number of TIME-WAIT sockets exceeds tcp_max_tw_buckets, all TIME-WAIT sockets are cleared at once.',
    },
  ],
  options: {
    limit: { type: 'number', min: 1, max: 1000, default: 4, describe: 'tcp_max_tw_buckets inside the sandbox' },
    extra: { type: 'number', min: 1, max: 1000, default: 6, describe: 'connections closed after the limit is reached' },
    port: { type: 'number', min: 1024, max: 65000, default: 9200, describe: 'listening port' },
  },
  async run(ctx: LabContext) {
    const limit = ctx.options.limit as number;
    const extra = ctx.options.extra as number;
    const port = ctx.options.port as number;
    const defaultMax = readSysctl('net.ipv4.tcp_max_tw_buckets');
    ctx.event('sysctl', `default tcp_max_tw_buckets of a fresh namespace: ${defaultMax}`, { defaultMax });
    await ctx.sysctl('net.ipv4.tcp_max_tw_buckets', String(limit));
    const listener = await listen({ host: HOST, port, reuseaddr: true });
    ctx.defer(() => listener.close());

    const closeShort = async (): Promise<number> => {
      const c = await connect(port, HOST);
      await listener.nextConnection();
      const lp = c.localPort!;
      await closeActively(c);
      return lp;
    };

    ctx.step(`fill TIME-WAIT up to the limit: ${limit} client-closed connections`);
    const first: number[] = [];
    for (let i = 0; i < limit; i++) first.push(await closeShort());
    await ctx.waitForSockets('TIME-WAIT up to the limit', { peerPort: port, state: 'TIME-WAIT' }, { count: limit, label: 'at the limit' });

    ctx.step(`close ${extra} more connections the same way`);
    const before = await readCounters();
    const second: number[] = [];
    for (let i = 0; i < extra; i++) second.push(await closeShort());
    // closeActively resolved after the peer's FIN was processed: each socket's TIME-WAIT-or-not is decided
    const after = await readCounters();
    const snap = await ctx.snapshot('after the overflow', { focus: { port } });
    const delta = counterDelta(before, after);
    ctx.event('counters', `counters that moved while closing the extra ${extra}: ${formatDelta(delta)}`, delta);

    const tw = filterSockets(snap.sockets, { peerPort: port, state: 'TIME-WAIT' }).map((s) => portOf(s.local));
    const survivors = first.filter((p) => tw.includes(p));
    const newTw = second.filter((p) => tw.includes(p));
    const lingering = filterSockets(snap.sockets, { peerPort: port }).filter((s) => second.includes(portOf(s.local) as number));
    ctx.table({
      title: `tcp_max_tw_buckets = ${limit}`,
      columns: ['connections', 'closed', 'in TIME-WAIT afterwards'],
      rows: [
        ['before the limit', String(first.length), `${survivors.length} (ports ${survivors.join(', ')})`],
        ['after the limit', String(second.length), `${newTw.length}${lingering.length ? `; other states: ${lingering.map((s) => s.state).join(', ')}` : ''}`],
      ],
      note: `Counters moved: ${formatDelta(delta)}`,
    });

    const overflow = delta['TcpExt.TCPTimeWaitOverflow'] ?? 0;
    const text =
      `With tcp_max_tw_buckets=${limit} (default here ${defaultMax}): after ${limit} connections, ${survivors.length}/${limit} of their TIME-WAIT sockets were still listed ` +
      `after ${extra} more were closed, and ${newTw.length}/${extra} of the new ones entered TIME-WAIT (the others were closed at once, skipping TIME-WAIT). ` +
      `TcpExt.TCPTimeWaitOverflow moved by ${overflow}; all moved counters: ${formatDelta(delta)}.`;
    if (survivors.length === limit && newTw.length === 0 && overflow === extra) {
      ctx.verdict('overflow-clears-all', 'refuted', `${text} Nothing is cleared: the limit only stops new sockets from entering TIME-WAIT.`);
    } else if (survivors.length === 0) {
      ctx.verdict('overflow-clears-all', 'confirmed', text);
    } else {
      ctx.verdict('overflow-clears-all', 'inconclusive', text);
    }
  },
});
