// A SYN for an address pair the server still holds in TIME-WAIT: taken by the TIME-WAIT socket, or not?
import type net from 'node:net';
import { A001, all, connectFrom, countersOf, counterDelta, defineLab, filterSockets, int, is, listenIn, need, no, twoHosts, yes } from '../harness/index.ts';

const CLIENT_PORT = 45000;
/** Linux ISNs advance ~15.6 million per second for one address pair (see README): how "behind" is made */
const ISN_PER_MS = 1e6 / 64;
const [CHUNK, END] = [16 << 20, 0x7a]; // the old connection writes in 16 MB chunks and ends with a 'z'

export default defineLab({
  title: 'A SYN for a pair the server holds in TIME-WAIT: accepted or not?',
  setup:
    'Two hosts per variant. A client bound to a fixed local port sends a request; the server closes first, so it keeps ' +
    'TIME-WAIT for that exact address pair. The client then connects again from the same port. Variants: timestamps ' +
    "on/off, and an old connection that sent a few bytes (the new SYN's sequence number is ahead of the old " +
    "connection's) or many megabytes (behind it: more than the ISN clock moves until the new SYN; those two run one " +
    "at a time). The client's RST and SYN-retransmission counters tell whether the TIME-WAIT socket took the SYN itself.",
  claims: {
    'tw-accepts-higher-seq': [A001, "A TIME-WAIT socket accepts a new SYN for the same address pair when the SYN's sequence number is higher than the old connection's, so reconnecting from the same client port works."],
    'lower-seq-not-accepted': [A001, "A SYN whose sequence number is lower than the old connection's is not accepted by the TIME-WAIT socket: it is dropped without an answer."],
  },
  options: { mb: int(16, 1024, 96, 'megabytes the old connection sends in the "behind" variants, at least (more while they lead the ISN clock by under 2x)', 'MB') },
  async run(ctx, o) {
    let subnet = 0;
    const variant = async ({ ts, seq }: { ts: number; seq: 'ahead' | 'behind' }) => {
      const id = `ts${ts}-${seq}`;
      const { client, server, serverAddr } = await twoHosts(ctx, { subnet: ++subnet, separateServer: true, clientName: `client-${id}`, serverName: `server-${id}` });
      for (const h of [client, server]) await h.sysctl('net.ipv4.tcp_timestamps', String(ts));
      const port = ctx.port();
      const listener = await listenIn(server, { host: '0.0.0.0', port, reuseaddr: true });
      ctx.defer(() => listener.close());
      listener.server.on('connection', (s: net.Socket) => s.on('data', (d: Buffer) => d[d.length - 1] === END && s.end())); // the server closes first, at the last byte
      const started = Date.now();
      const old = await connectFrom(client, port, serverAddr, { localPort: CLIENT_PORT });
      const [closed, send] = [new Promise((r) => old.once('close', r).resume()), (n: number, fill = 0x61) => new Promise<number>((r) => old.write(Buffer.alloc(n, fill), () => r(n)))];
      const clock = () => (Date.now() - started) * ISN_PER_MS; // how far the ISN clock has moved since the old SYN
      let bytes = seq === 'ahead' ? await send(4) : 0; // "behind": at least mb MB, then more while the data outpaces the clock but leads it by under 2x (a loaded machine moves data slower)
      while (seq === 'behind' && (bytes < o.mb << 20 || (bytes < 2 * clock() && bytes > 1.2 * clock() && bytes < 4 * (o.mb << 20)))) bytes += await send(CHUNK);
      bytes += await send(1, END);
      await closed;
      const tw = await ctx.waitForSockets(`TIME-WAIT for :${CLIENT_PORT} on the server`, { localPort: port, peerPort: CLIENT_PORT, state: 'TIME-WAIT' }, { host: server.host, label: `${id}: server before the new SYN` });
      await ctx.waitForSockets(`no socket left on client port ${CLIENT_PORT}`, { localPort: CLIENT_PORT }, { host: client.host, count: 0 });
      const [sb, cb] = await Promise.all([countersOf(server), countersOf(client)]);
      const synGapMs = Date.now() - started;
      const error = await connectFrom(client, port, serverAddr, { localPort: CLIENT_PORT }).then((s) => { ctx.defer(() => s.destroy()); return undefined; }, (e: NodeJS.ErrnoException) => e.code ?? String(e));
      const [sa, ca] = await Promise.all([countersOf(server), countersOf(client)]);
      const after = await ctx.snapshot(`${id}: server after the new SYN`, { host: server.host, focus: { localPort: port } });
      const c = counterDelta(cb, ca);
      return {
        bytes, synGapMs, twBefore: tw.length, error, serverMoved: counterDelta(sb, sa),
        clientRsts: c['Tcp.OutRsts'] ?? 0, synRetrans: c['TcpExt.TCPSynRetrans'] ?? 0,
        estabAfter: filterSockets(after.sockets, { localPort: port, peerPort: CLIENT_PORT, state: 'ESTAB' }).length,
      };
    };
    ctx.step('the two "ahead" variants at once, each on its own pair of hosts; then the "behind" ones, one at a time (each moves its data alone)');
    const variants = [...(await ctx.matrix({ ts: [1, 0], seq: ['ahead'] as const }, variant, { concurrent: true })), ...(await ctx.matrix({ ts: [1, 0], seq: ['behind'] as const }, variant))];
    return { variants };
  },
  judge: ({ variants }) => {
    const v = (ts: number, seq: string) => variants.find((x) => x.ts === ts && x.seq === seq)?.evidence;
    const seqIs = (e: ReturnType<typeof v>, seq: string) => !!e && e.twBefore === 1 && (seq === 'behind' ? e.bytes > e.synGapMs * ISN_PER_MS : e.bytes < e.synGapMs * ISN_PER_MS);
    const direct = (e: ReturnType<typeof v>) => e && (!e.error && e.estabAfter === 1 && e.clientRsts === 0 && e.synRetrans === 0);
    const outcome = (e: ReturnType<typeof v>) => e && (e.error ?? (direct(e) ? 'connected at once' : e.clientRsts && e.synRetrans ? 'connected after the client reset the reply and re-sent its SYN' : 'connected'));
    const gap = (e: ReturnType<typeof v>) => (e ? `${e.bytes} bytes sent, ${e.synGapMs} ms between the SYNs (the ISN clock moved ${Math.round(e.synGapMs * ISN_PER_MS)})` : 'not run');
    const b0 = v(0, 'behind');
    return {
      'tw-accepts-higher-seq': all(
        need('TIME-WAIT held and the new SYN ahead in both "ahead" variants', seqIs(v(0, 'ahead'), 'ahead') && seqIs(v(1, 'ahead'), 'ahead'), `${gap(v(0, 'ahead'))}; ${gap(v(1, 'ahead'))}`),
        yes('timestamps off: the TIME-WAIT socket took the SYN (one SYN, no RST, connected)', direct(v(0, 'ahead'))),
        yes('timestamps on: the TIME-WAIT socket took the SYN', direct(v(1, 'ahead'))),
      ),
      'lower-seq-not-accepted': all(
        need('TIME-WAIT held and the new SYN behind (timestamps off)', seqIs(b0, 'behind'), gap(b0)),
        no('the TIME-WAIT socket took the SYN at once', direct(b0)),
        is("what the client's connect() saw", outcome(b0), 'ETIMEDOUT'),
      ),
    };
  },
  tables: ({ variants }) => [{
    title: `Reconnect from client port ${CLIENT_PORT} while the server holds TIME-WAIT for it`,
    columns: ['timestamps', 'new SYN', 'old connection sent', 'ms between SYNs', 'new connect()', 'client RSTs', 'client SYN retransmits', 'server ESTAB after'],
    rows: variants.map((x) => [String(x.ts), x.seq, ...(x.evidence ? [x.evidence.bytes, x.evidence.synGapMs, x.evidence.error ?? 'connected', x.evidence.clientRsts, x.evidence.synRetrans, x.evidence.estabAfter].map(String) : [x.error ?? ''])]),
  }],
});
