// A client whose FIN-WAIT-2 timed out reconnects from the same port to a server still in CLOSE-WAIT: what then?
import { A003, LOOPBACK, all, counterDelta, defineLab, dial, endsOf, is, listen, need, readCounters, stateIn, waitForEnd, waitForGone } from '../harness/index.ts';

const CLIENT_PORT = 46000;

export default defineLab({
  title: "A reconnect from the same port meets the server's old CLOSE-WAIT: the SYN ends it",
  setup:
    'A server application never closes its sockets. A client bound to a fixed port connects and closes; the server ' +
    'end sits in CLOSE-WAIT while the client end, an orphan in FIN-WAIT-2, is reaped after tcp_fin_timeout (1 s here). ' +
    "The client then connects again from the same port. The lab records what connect() returns and how long it took, " +
    "the old server end's fate, and the counters that show the exchange (challenge ACK, RST, SYN retransmission).",
  claims: {
    'close-wait-until-close': [A003, 'A connection whose application never calls close() stays in CLOSE_WAIT until the application closes it.'],
  },
  sysctls: { 'net.ipv4.tcp_fin_timeout': '1' },
  async run(ctx) {
    const port = ctx.port();
    const l = await listen({ host: LOOPBACK, port, allowHalfOpen: true });
    ctx.defer(() => l.close());
    const [ends] = [endsOf(CLIENT_PORT, port)];
    const first = dial(port, CLIENT_PORT, LOOPBACK);
    await first.outcome;
    await l.nextConnection();
    ctx.step('the client closes; the server application does nothing');
    first.socket.destroy();
    await waitForEnd(ctx, ends.server, 'CLOSE-WAIT', { label: 'server CLOSE-WAIT, client FIN-WAIT-2' });
    const reaped = await waitForGone(ctx, ends.client, { timeoutMs: 5000, label: 'client orphan reaped, server still CLOSE-WAIT' });
    ctx.step('the client connects again from the same port');
    const before = await readCounters();
    const again = dial(port, CLIENT_PORT, LOOPBACK);
    ctx.defer(() => again.socket.destroy());
    const outcome = await again.outcome;
    const after = await ctx.snapshot('after the reconnect', { focus: { port } });
    const d = counterDelta(before, await readCounters(), ['TcpExt.TCPChallengeACK', 'Tcp.OutRsts', 'TcpExt.TCPSynRetrans', 'Tcp.EstabResets']);
    return {
      serverBefore: stateIn(reaped, ends.server), clientBefore: stateIn(reaped, ends.client),
      connect: outcome.ok ? `connected after ${outcome.ms} ms` : `${outcome.code} after ${outcome.ms} ms`,
      serverAfter: stateIn(after, ends.server), clientAfter: stateIn(after, ends.client),
      challengeAcks: d['TcpExt.TCPChallengeACK'] ?? 0, rsts: d['Tcp.OutRsts'] ?? 0, synRetrans: d['TcpExt.TCPSynRetrans'] ?? 0,
      acceptedNew: l.connections.length === 2,
    };
  },
  judge: (ev) => ({
    'close-wait-until-close': all(
      need('the server end was in CLOSE-WAIT with the client end gone before the reconnect', ev.serverBefore === 'CLOSE-WAIT' && ev.clientBefore === 'absent', `server ${ev.serverBefore}, client ${ev.clientBefore}`),
      is(`the old server end after a reconnect from the same port (connect(): ${ev.connect}; challenge ACKs ${ev.challengeAcks}, RSTs ${ev.rsts}, SYN retransmissions ${ev.synRetrans})`, ev.acceptedNew ? 'replaced by a new connection' : ev.serverAfter, 'CLOSE-WAIT'),
    ),
  }),
});
