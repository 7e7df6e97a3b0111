// Does going over tcp_max_tw_buckets clear the TIME-WAIT sockets that exist, or only keep new ones out?
import { A000, all, because, churn, defineLab, filterSockets, int, is, leave, need, portOf, readSysctl } from '../harness/index.ts';

export default defineLab({
  title: 'tcp_max_tw_buckets: what happens to TIME-WAIT sockets over the limit',
  setup:
    'tcp_max_tw_buckets is set low inside the sandbox. Clients close loopback connections first until the limit ' +
    'is reached, then close more. Snapshots say, port by port, which TIME-WAIT sockets survive and whether the ' +
    'new ones appear; the TCP counters are read before and after the overflow.',
  claims: {
    'overflow-clears-all': [A000, 'Once TIME-WAIT sockets exceed tcp_max_tw_buckets, all TIME-WAIT sockets are cleared at once.'],
  },
  options: {
    limit: int(1, 1000, 4, 'tcp_max_tw_buckets inside the sandbox', 'sockets'),
    extra: int(1, 1000, 6, 'connections closed after the limit is reached', 'connections'),
  },
  async run(ctx, o) {
    const defaultMax = Number(readSysctl('net.ipv4.tcp_max_tw_buckets'));
    await ctx.sysctl('net.ipv4.tcp_max_tw_buckets', String(o.limit));
    ctx.step(`fill TIME-WAIT up to the limit: ${o.limit} client-closed connections`);
    const full = await leave(ctx, o.limit, 'TIME-WAIT', { on: 'client' });
    await ctx.snapshot('at the limit', { focus: { port: full.port } });
    ctx.step(`close ${o.extra} more connections the same way`);
    const { value: later, delta } = await ctx.counters('closing past the limit', async () => (await churn(full.listener, o.extra, { closer: 'client', signal: ctx.signal })).ports, ['TcpExt.TCPTimeWaitOverflow']);
    const snap = await ctx.snapshot('after the overflow', { focus: { port: full.port } });
    const tw = filterSockets(snap.sockets, { peerPort: full.port, state: 'TIME-WAIT' }).map((s) => portOf(s.local));
    return {
      defaultMax,
      limit: o.limit,
      before: full.ends.map((e) => e.localPort),
      later,
      survivors: full.ends.map((e) => e.localPort).filter((p) => tw.includes(p)),
      laterInTimeWait: later.filter((p) => tw.includes(p)),
      overflowCounter: delta['TcpExt.TCPTimeWaitOverflow'] ?? 0,
    };
  },
  judge: (ev) => ({
    'overflow-clears-all': because(
      all(
        need('the limit was exceeded', ev.overflowCounter > 0 || ev.laterInTimeWait.length < ev.later.length, 'every new socket entered TIME-WAIT and TCPTimeWaitOverflow did not move'),
        is(`TIME-WAIT sockets from before the limit still listed after the overflow (of ${ev.before.length})`, ev.survivors.length, 0),
      ),
      `Of the ${ev.later.length} connections closed past the limit, ${ev.laterInTimeWait.length} entered TIME-WAIT; TcpExt.TCPTimeWaitOverflow moved by ${ev.overflowCounter}.`,
    ),
  }),
  tables: (ev) => [
    {
      title: `tcp_max_tw_buckets = ${ev.limit} (a fresh namespace's default: ${ev.defaultMax})`,
      columns: ['connections', 'closed', 'in TIME-WAIT after the overflow'],
      rows: [
        ['before the limit', String(ev.before.length), `${ev.survivors.length} (ports ${ev.survivors.join(', ') || 'none'})`],
        ['past the limit', String(ev.later.length), String(ev.laterInTimeWait.length)],
      ],
      note: `TcpExt.TCPTimeWaitOverflow moved by ${ev.overflowCounter}.`,
    },
  ],
});
