// When the TIME-WAIT side receives the peer's FIN again (its last ACK was lost), does its timer start over?
import { A000, Faults, LOOPBACK, NFT_INSTALL, WaitTimeout, all, check, closeActively, connect, counterDelta, defineLab, fig, filterSockets, hasSysctl, int, listen, need, readCounters, type SockRecord } from '../harness/index.ts';

const RTO = 'net.ipv4.tcp_rto_min_us';

export default defineLab({
  title: 'A FIN received again in TIME-WAIT restarts the 60 s timer',
  seconds: 3.5,
  setup:
    'The client closes a loopback connection first. An nftables rule drops its final ACK, so the server stays in ' +
    'LAST-ACK and re-sends its FIN; tcp_rto_min_us is raised inside the sandbox so that happens seconds later, long ' +
    "enough to see the client's TIME-WAIT timer count down in ss (whole seconds) first. ss is read every 100 ms: the " +
    'read where the timer is first below its starting value, and the first read where it is above that again.',
  claims: { 'fin-restarts-timer': [A000, "When the side in TIME-WAIT receives the peer's FIN again, its 2MSL timer starts over."] },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  options: { 'rto-ms': int(200, 10000, 3000, 'tcp_rto_min in the sandbox: when the server re-sends its FIN', 'ms') },
  async run(ctx, o) {
    if (!hasSysctl(RTO)) return { rtoSysctl: false, dropped: 0, retrans: 0, samples: [] };
    await ctx.sysctl(RTO, String(o['rto-ms'] * 1000));
    const faults = await Faults.open(ctx);
    const port = ctx.port();
    const listener = await listen({ host: LOOPBACK, port, reuseaddr: true });
    ctx.defer(() => listener.close());
    const client = await connect(port, LOOPBACK);
    await listener.nextConnection();
    const cport = client.localPort!;
    ctx.step(`drop the client's pure ACKs to :${port} (its final ACK, and any re-ACK), then close from the client`);
    const rule = await faults.drop({ kind: 'fin-ack', fromPort: cport, toPort: port }, 'the last ACK of the close');
    const before = await readCounters();
    await closeActively(client);
    const samples: { atMs: number; twMs?: number; lastAck?: string }[] = [];
    const read = (xs: SockRecord[]) => {
      const s = { atMs: ctx.elapsedMs(), twMs: filterSockets(xs, { localPort: cport, state: 'TIME-WAIT' })[0]?.timer?.remainingMs, lastAck: filterSockets(xs, { localPort: port, state: 'LAST-ACK' })[0]?.timer?.raw };
      if (samples.at(-1)?.twMs !== s.twMs || !samples.at(-1)?.lastAck !== !s.lastAck) samples.push(s); // keep the changes
      return s;
    };
    const watch = (what: string, label: string, ready: (twMs?: number) => boolean) =>
      ctx.waitSs(what, (xs) => ready(read(xs).twMs), { timeoutMs: o['rto-ms'] * 3 + 3000, intervalMs: 100, label, focus: { port }, progress: () => `client TIME-WAIT timer ${samples.at(-1)?.twMs ?? 'gone'} ms; server LAST-ACK ${samples.at(-1)?.lastAck ?? 'gone'}` })
        .then(() => samples.at(-1)!.twMs, (e) => { if (e instanceof WaitTimeout) return samples.at(-1)?.twMs; throw e; });
    const startMs = await watch(`TIME-WAIT on client port ${cport}`, 'client in TIME-WAIT, server in LAST-ACK', (tw) => tw !== undefined);
    ctx.step("read ss every 100 ms: until the client's TIME-WAIT timer has counted down, then until it goes back up");
    const lowMs = await watch('the TIME-WAIT timer counting down', 'client TIME-WAIT timer counted down', (tw) => tw === undefined || tw < startMs!);
    const upMs = lowMs === undefined || lowMs >= startMs! ? undefined : await watch('the TIME-WAIT timer going back up', 'client TIME-WAIT timer back up', (tw) => tw === undefined || tw > lowMs);
    const dropped = await faults.lift(rule, 'done');
    const delta = counterDelta(before, await readCounters(), ['Tcp.RetransSegs', 'TcpExt.TCPLossProbes', 'TcpExt.TCPTimeouts']);
    ctx.event('counters', `while waiting: ${Object.entries(delta).map(([k, v]) => `${k} +${v}`).join(', ')}`, delta);
    return { rtoSysctl: true, startMs, lowMs, upMs, dropped, retrans: delta['Tcp.RetransSegs'] ?? 0, samples };
  },
  judge: (ev) => ({
    'fin-restarts-timer': all(
      need(`${RTO} exists on this kernel (the lab delays the re-sent FIN with it)`, ev.rtoSysctl, `${RTO} is missing`),
      need('the server re-sent its FIN and the client answered it again', ev.retrans >= 1 && ev.dropped >= 2, `Tcp.RetransSegs +${ev.retrans}, ${ev.dropped} ACK(s) dropped`),
      need("the client's timer was seen counting down first", ev.startMs !== undefined && ev.lowMs !== undefined && ev.lowMs < ev.startMs, `timer ${ev.startMs ?? 'none'} ms, then ${ev.lowMs ?? 'none'} ms`),
      check(`client TIME-WAIT timer once the FIN came again (it had counted down from ${fig(ev.startMs, 'ms')} to ${fig(ev.lowMs, 'ms')})`, ev.upMs, `above ${fig(ev.lowMs, 'ms')}`, ev.upMs !== undefined && ev.lowMs !== undefined && ev.upMs > ev.lowMs, 'ms'),
    ),
  }),
  tables: (ev, o) => [{
    title: `Client TIME-WAIT timer vs server LAST-ACK (final ACK dropped, tcp_rto_min ${o['rto-ms']} ms)`,
    columns: ['lab time', 'client TIME-WAIT timer (ss)', 'server LAST-ACK timer (ss)'],
    rows: ev.samples.map((s) => [`${(s.atMs / 1000).toFixed(1)} s`, s.twMs !== undefined ? `${s.twMs / 1000} s` : 'gone', s.lastAck ?? 'gone']),
    note: `nft dropped ${ev.dropped} ACK segment(s) from the client; Tcp.RetransSegs +${ev.retrans}.`,
  }],
});
