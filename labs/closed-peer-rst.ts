// Without TIME-WAIT, what answers the peer's re-sent FIN? The reason TIME-WAIT exists, shown by taking it away.
import { A001, Faults, NFT_INSTALL, all, atLeast, because, counterDelta, defineLab, endIn, need, pair, readCounters, stateIn, waitForEnd, waitForGone } from '../harness/index.ts';

export default defineLab({
  title: 'An active closer already CLOSED answers the re-sent FIN with an RST',
  setup:
    'tcp_max_tw_buckets is set to 0 in the sandbox, so a socket that would enter TIME-WAIT is closed at once. The ' +
    "client closes first; an nft rule drops its final ACK, so the server stays in LAST-ACK and re-sends its FIN to a " +
    "port where no socket is left. A second rule drops (and counts) the RSTs from the client's port until ss has shown " +
    'the server in LAST-ACK with its FIN re-sent, however long the harness takes to look; then one is let through.',
  claims: {
    'closed-answers-fin-with-rst': [A001, "If the active closer had gone straight to CLOSED instead of TIME_WAIT, the peer's retransmitted FIN would be answered with an RST."],
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    await ctx.sysctl('net.ipv4.tcp_max_tw_buckets', '0');
    const faults = await Faults.open(ctx);
    const p = await pair(ctx);
    const [ack, rst] = [await faults.drop({ kind: 'ack', fromPort: p.clientPort }, "the closer's final ACK is lost"), await faults.drop({ kind: 'rst', fromPort: p.clientPort }, "hold back (and count) the RSTs from the closer's port")];
    const before = await readCounters();
    ctx.step('the client closes first; then the server closes, and its FIN is ACKed into the void');
    p.client.end();
    await waitForEnd(ctx, p.ends.server, 'CLOSE-WAIT');
    p.server.end();
    // LAST-ACK lasts one RTO once an RST gets through: held until ss shows it, with its FIN re-sent at least once
    const lastAck = await ctx.waitSs('the server end in LAST-ACK with its FIN re-sent', (xs) => stateIn(xs, p.ends.server) === 'LAST-ACK' && (endIn(xs, p.ends.server)?.timer?.retransmits ?? 0) >= 1, { label: 'server LAST-ACK, client already CLOSED', filter: { port: p.serverPort } });
    ctx.step("let the RSTs through: the server's next re-sent FIN meets one");
    const rsts = await faults.lift(rst);
    const liftedAt = ctx.elapsedMs();
    const gone = await waitForGone(ctx, p.ends.server, { timeoutMs: 5000, label: 'server end gone' });
    const delta = counterDelta(before, await readCounters(), ['TcpExt.TCPTimeWaitOverflow', 'Tcp.RetransSegs', 'Tcp.OutRsts']);
    return {
      clientAtLastAck: stateIn(lastAck, p.ends.client), overflow: delta['TcpExt.TCPTimeWaitOverflow'] ?? 0, acksDropped: await faults.lift(ack),
      retrans: delta['Tcp.RetransSegs'] ?? 0, rsts, serverGoneAfterMs: gone.atMs - liftedAt,
    };
  },
  judge: (ev) => ({
    'closed-answers-fin-with-rst': because(all(
      need('the closer skipped TIME-WAIT (gone when the server was in LAST-ACK, TCPTimeWaitOverflow moved)', ev.clientAtLastAck === 'absent' && ev.overflow > 0, `client ${ev.clientAtLastAck}, TCPTimeWaitOverflow +${ev.overflow}`),
      need("the closer's final ACK was dropped and the server re-sent its FIN", ev.acksDropped > 0 && ev.retrans > 0, `${ev.acksDropped} ACK(s) dropped, Tcp.RetransSegs +${ev.retrans}`),
      atLeast("RST segments from the closer's port (held back until LAST-ACK was seen)", ev.rsts, 1),
    ), `The server end left LAST-ACK ${ev.serverGoneAfterMs} ms after the RSTs were let through.`),
  }),
});
