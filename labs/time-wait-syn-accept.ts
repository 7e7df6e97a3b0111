// Tests: a server holding TIME-WAIT for (server port, client port) gets a new SYN from that same client port:
// is the new connection accepted at once, and does it depend on the SYN's sequence number (timestamps on/off)?
import type net from 'node:net';
import { A001 } from '../harness/lab/articles.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import { counterDelta, formatDelta } from '../harness/kernel/counters.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { defineLab } from '../harness/lab/define.ts';
import { countersOf } from '../harness/kernel/topology-counters.ts';
import { connectFrom, listenIn } from '../harness/kernel/topology-sockets.ts';
import { twoHosts } from '../harness/kernel/topology.ts';

const SERVER_PORT = 8080;
const CLIENT_PORT = 45000;
/** the ISN clock of Linux (secure_tcp_seq) ticks once per 64 ns: 15.6 million per second */
const ISN_PER_SEC = 1e9 / 64;

interface Variant {
  id: string;
  ts: number;
  /** bytes the client sends before the server closes: enough pushes the old connection's sequence past the new ISN */
  bytes: number;
  twBefore?: number;
  connectMs?: number;
  error?: string;
  twAfter?: number;
  estabAfter?: number;
  oldConnMs?: number;
  /** ms from the old connect() call to the new one: how far the ISN clock moved between the two SYNs */
  synGapMs?: number;
  serverDelta?: Record<string, number>;
  clientDelta?: Record<string, number>;
}

async function runVariant(ctx: LabContext, v: Variant, index: number): Promise<void> {
  const topo = await twoHosts(ctx, { subnet: index + 1, separateServer: true, clientName: `client-${v.id}`, serverName: `server-${v.id}` });
  const { client, server, serverAddr } = topo;
  await client.sysctl('net.ipv4.tcp_timestamps', String(v.ts));
  await server.sysctl('net.ipv4.tcp_timestamps', String(v.ts));
  const listener = await listenIn(server, { host: '0.0.0.0', port: SERVER_PORT, reuseaddr: true });
  ctx.defer(() => listener.close());
  const need = Math.max(v.bytes, 1);
  listener.server.on('connection', (s: net.Socket) => {
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= need && !s.writableEnded) s.end(); // the server closes first: TIME-WAIT stays on the server
    });
  });
  const open: net.Socket[] = [];
  ctx.defer(() => open.forEach((s) => s.destroy()));

  const started = Date.now();
  const old = await connectFrom(client, SERVER_PORT, serverAddr, { localPort: CLIENT_PORT });
  await new Promise<void>((resolve) => {
    old.once('close', () => resolve());
    old.resume();
    old.write(Buffer.alloc(need, 0x61));
  });
  v.oldConnMs = Date.now() - started;
  const tw = await ctx.waitForSockets(
    `TIME-WAIT for :${CLIENT_PORT} on the server`,
    { localPort: SERVER_PORT, peerPort: CLIENT_PORT, state: 'TIME-WAIT' },
    { host: server.host, label: `${v.id}: server before the new SYN` },
  );
  v.twBefore = tw.length;
  // the client's side of the old connection must be fully gone before its port can be bound again
  await ctx.waitForSockets(`no socket left on client port ${CLIENT_PORT}`, { localPort: CLIENT_PORT }, { host: client.host, count: 0 });
  const [sb, cb] = await Promise.all([countersOf(server), countersOf(client)]);
  const t0 = Date.now();
  v.synGapMs = t0 - started;
  try {
    open.push(await connectFrom(client, SERVER_PORT, serverAddr, { localPort: CLIENT_PORT }));
    v.connectMs = Date.now() - t0;
  } catch (err) {
    v.error = (err as NodeJS.ErrnoException).code ?? String(err);
  }
  const [sa, ca] = await Promise.all([countersOf(server), countersOf(client)]);
  v.serverDelta = counterDelta(sb, sa);
  v.clientDelta = counterDelta(cb, ca);
  const after = await ctx.snapshot(`${v.id}: server after the new SYN`, { host: server.host, focus: { localPort: SERVER_PORT } });
  v.twAfter = filterSockets(after.sockets, { localPort: SERVER_PORT, peerPort: CLIENT_PORT, state: 'TIME-WAIT' }).length;
  v.estabAfter = filterSockets(after.sockets, { localPort: SERVER_PORT, peerPort: CLIENT_PORT, state: 'ESTAB' }).length;
  ctx.event(
    'reconnect',
    `${v.id}: reconnect from :${CLIENT_PORT} while the server held TIME-WAIT for it: ${v.error ?? `connected in ${v.connectMs} ms`}; server counters ${formatDelta(v.serverDelta)}; client counters ${formatDelta(v.clientDelta)}`,
    { ...v },
    client.host,
  );
}

const outcome = (v?: Variant) => (!v ? 'not run' : v.error ? `failed: ${v.error}` : `connected in ${v.connectMs} ms`);
/** the TIME-WAIT socket took the SYN itself: one SYN, no RST from the client, connected */
const direct = (v?: Variant) =>
  !!v && v.twBefore === 1 && v.connectMs !== undefined && (v.clientDelta?.['TcpExt.TCPSynRetrans'] ?? 0) === 0 && (v.clientDelta?.['Tcp.OutRsts'] ?? 0) === 0;
/** the TIME-WAIT socket refused the SYN (answered with its old ACK, the client reset it) and a retransmitted SYN connected */
const recovered = (v?: Variant) =>
  !!v && v.twBefore === 1 && v.connectMs !== undefined && (v.clientDelta?.['Tcp.OutRsts'] ?? 0) >= 1 && (v.clientDelta?.['TcpExt.TCPSynRetrans'] ?? 0) >= 1;
const how = (v?: Variant) =>
  !v ? 'not run' : `${outcome(v)}, client SYN retransmits ${v.clientDelta?.['TcpExt.TCPSynRetrans'] ?? 0}, client RSTs ${v.clientDelta?.['Tcp.OutRsts'] ?? 0}`;

export default defineLab({
  name: 'time-wait-syn-accept',
  title: 'A SYN for a pair the server holds in TIME-WAIT: accepted or not?',
  description:
    'Two hosts. A client bound to a fixed local port sends a request; the server closes first, so the server ' +
    'keeps TIME-WAIT for that exact address pair. The client then connects again from the same port. Variants: ' +
    'timestamps on/off, and whether the old connection carried enough data (default 96 MB) that its last ' +
    'sequence number is ahead of the new SYN\'s (Linux ISNs grow by about 15.6 million per second for a given ' +
    'address pair, so a short old connection leaves the new SYN "higher" and a big one leaves it "lower").',
  claims: [
    {
      id: 'tw-accepts-higher-seq',
      source: A001,
      statement: 'A TIME-WAIT socket accepts a new SYN for the same address pair when the SYN\'s sequence number is higher than the old connection\'s (BSD-derived behaviour), so reconnecting from the same client port works.',
    },
    {
      id: 'lower-seq-not-accepted',
      source: A001,
      statement: 'A SYN whose sequence number is lower than the old connection\'s is not accepted by the TIME-WAIT socket (the article saw it dropped without answer).',
    },
  ],
  options: {
    mb: { type: 'number', min: 16, max: 1024, default: 96, describe: 'MB the client sends in the "seq behind" variants' },
  },
  async run(ctx: LabContext) {
    const bytes = (ctx.options.mb as number) * 1024 * 1024;
    const variants: Variant[] = [
      { id: 'ts1-seq-ahead', ts: 1, bytes: 5 },
      { id: 'ts0-seq-ahead', ts: 0, bytes: 5 },
      { id: 'ts1-seq-behind', ts: 1, bytes },
      { id: 'ts0-seq-behind', ts: 0, bytes },
    ];
    ctx.step('run the four variants at once, each on its own pair of hosts');
    await Promise.all(variants.map((v, i) => runVariant(ctx, v, i)));

    ctx.table({
      title: `Reconnect from client port ${CLIENT_PORT} while the server holds TIME-WAIT for it`,
      columns: ['variant', 'timestamps', 'old connection sent', 'TIME-WAIT before', 'new connect() (client)', 'server after', 'server counters moved'],
      rows: variants.map((v) => [
        v.id, String(v.ts), `${v.bytes} B in ${v.oldConnMs} ms (SYN gap ${v.synGapMs} ms)`, String(v.twBefore), how(v),
        `TIME-WAIT ${v.twAfter}, ESTAB ${v.estabAfter}`, formatDelta(v.serverDelta ?? {}),
      ]),
      note: `The new SYN is "behind" when the old connection's bytes exceed ~${(ISN_PER_SEC / 1e6).toFixed(1)} million per second elapsed since it started.`,
    });

    const get = (id: string) => variants.find((v) => v.id === id);
    const a1 = get('ts1-seq-ahead');
    const a0 = get('ts0-seq-ahead');
    const b1 = get('ts1-seq-behind');
    const b0 = get('ts0-seq-behind');
    // the old connection's last sequence number is ISN + bytes; the new ISN is that ISN + the clock's advance
    // between the two SYNs (same address pair, same hash), measured from the old connect() to the new one
    const isnAdvance = (v: Variant) => (v.synGapMs! / 1000) * ISN_PER_SEC;
    const behindReal = (v?: Variant) => !!v && v.synGapMs !== undefined && v.bytes > isnAdvance(v);
    const aheadReal = (v?: Variant) => !!v && v.synGapMs !== undefined && v.bytes < isnAdvance(v);
    const gapText = (v?: Variant) =>
      !v || v.synGapMs === undefined ? 'no gap measured' : `${v.bytes} bytes against an ISN advance of ~${Math.round(isnAdvance(v))} over the ${v.synGapMs} ms between the SYNs`;
    if (direct(a0) && direct(a1) && aheadReal(a0) && aheadReal(a1) && behindReal(b0) && !direct(b0)) {
      ctx.verdict(
        'tw-accepts-higher-seq',
        'confirmed',
        `With the new SYN's sequence number above the old connection's, the server's TIME-WAIT socket took it directly (timestamps off: ${how(a0)}; on: ${how(a1)}), ` +
          `leaving ${a0!.twAfter} TIME-WAIT and ${a0!.estabAfter} ESTAB for the pair. With it below and timestamps off, it did not (${how(b0)}). ` +
          `${direct(b1) ? `With timestamps on, a SYN behind in sequence was taken directly as well (${how(b1)}): when both sides use timestamps Linux decides by the newer timestamp, otherwise by the sequence number (tcp_timewait_state_process).` : ''}`,
      );
    } else {
      ctx.verdict(
        'tw-accepts-higher-seq',
        'inconclusive',
        `ahead: ts0 ${how(a0)}; ts1 ${how(a1)}; behind: ts0 ${how(b0)} (${gapText(b0)}); ts1 ${how(b1)} (TIME-WAIT present before: ${variants.map((v) => v.twBefore).join('/')})`,
      );
    }
    if (b0 && b0.twBefore === 1 && behindReal(b0)) {
      if (b0.error === 'ETIMEDOUT') {
        ctx.verdict('lower-seq-not-accepted', 'confirmed', `The SYN behind in sequence (timestamps off; ${gapText(b0)}) never got an answer: connect() failed with ${b0.error}.`);
      } else if (b0.error === 'ECONNREFUSED') {
        ctx.verdict(
          'lower-seq-not-accepted',
          'partly',
          `The SYN behind in sequence (timestamps off; ${gapText(b0)}) was not accepted, but not dropped silently either: connect() failed with ${b0.error} (a RST came back).`,
        );
      } else if (b0.error) {
        ctx.verdict('lower-seq-not-accepted', 'inconclusive', `connect() of the SYN behind in sequence failed with ${b0.error}, which says nothing about the TIME-WAIT socket (${gapText(b0)}).`);
      } else if (recovered(b0)) {
        ctx.verdict(
          'lower-seq-not-accepted',
          'partly',
          `The SYN behind in sequence (timestamps off; ${gapText(b0)}) was not taken by the TIME-WAIT socket, but not silently dropped either: the TIME-WAIT socket answered with the old connection's ACK, ` +
            `the client answered that with a RST, which removed the TIME-WAIT socket (tcp_rfc1337=0), and the client re-sent its SYN at once (on a bad ACK in SYN-SENT the kernel re-arms ` +
            `the SYN timer to its minimum, tcp_rcv_synsent_state_process), which the listener accepted: ${how(b0)}. Server counters: ${formatDelta(b0.serverDelta ?? {})}.`,
        );
      } else if (direct(b0)) {
        ctx.verdict('lower-seq-not-accepted', 'refuted', `The SYN behind in sequence (timestamps off; ${gapText(b0)}) was taken directly: ${how(b0)}.`);
      } else {
        ctx.verdict('lower-seq-not-accepted', 'inconclusive', `unexpected evidence: ${how(b0)}`);
      }
    } else {
      ctx.verdict('lower-seq-not-accepted', 'inconclusive', `the "behind" variant did not get its sequence number behind (${gapText(b0)}) or no TIME-WAIT was seen (TIME-WAIT before: ${b0?.twBefore ?? 'not run'})`);
    }
  },
});
