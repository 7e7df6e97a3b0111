// A killed process whose FIN is not acknowledged: does its socket pass through FIN-WAIT-1, and what ends it?
import { A003, Faults, LOOPBACK, NFT_INSTALL, all, atLeast, between, counterDelta, defineLab, endsOf, int, is, listen, need, readCounters, startActors, stateIn, waitForEnd, waitForGone } from '../harness/index.ts';

export default defineLab({
  title: 'A killed process: FIN-WAIT-1 first, and an orphan whose FIN is never ACKed lasts tcp_orphan_retries',
  seconds: 3.5,
  setup:
    "A client actor connects to the lab's listener. An nft rule drops the server's ACKs, then the actor is SIGKILLed: " +
    "its kernel sends a FIN that nobody acknowledges, so its now-orphaned socket is held where it is. On one " +
    'connection the rule is lifted and the socket moves on; on the other it stays, with tcp_orphan_retries set low ' +
    'in the sandbox, and the lab times how long the orphan lives and counts its retransmissions.',
  claims: {
    'killed-passes-fin-wait-1': [A003, 'The side whose process was killed sends a FIN and passes through FIN_WAIT_1 before FIN_WAIT_2.'],
    'orphan-fin-wait-1-retries': [A003, 'An orphaned FIN_WAIT_1 whose FIN is never acknowledged is retransmitted up to tcp_orphan_retries times, and then the socket goes away.'],
  },
  options: { retries: int(1, 6, 2, 'net.ipv4.tcp_orphan_retries inside the sandbox (0 means the kernel default, 8)', 'retransmissions') },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    await ctx.sysctl('net.ipv4.tcp_orphan_retries', String(o.retries));
    const faults = await Faults.open(ctx);
    const port = ctx.port();
    const l = await listen({ host: LOOPBACK, port, allowHalfOpen: true });
    ctx.defer(() => l.close());
    const [victim] = await startActors(ctx, ['victim']);
    const conns = [await victim.connect(port), await victim.connect(port)];
    for (let i = 0; i < conns.length; i++) await l.nextConnection();
    const [held, left] = conns.map((c) => endsOf(c.localPort, port).client);
    ctx.step("drop the server's ACKs, then SIGKILL the client process");
    const rule = await faults.drop({ kind: 'ack', fromPort: port }, 'no ACK of the killed side\'s FIN');
    const before = await readCounters();
    const killedAt = ctx.elapsedMs();
    await victim.kill('SIGKILL');
    const fw1 = await waitForEnd(ctx, held, 'FIN-WAIT-1', { label: 'after the kill: FIN-WAIT-1' });
    await waitForEnd(ctx, left, 'FIN-WAIT-1');
    ctx.step('let the ACKs through for one connection: it moves on; the other stays unacknowledged');
    await faults.lift(rule);
    const other = await faults.drop({ kind: 'ack', fromPort: port, toPort: left.localPort }, 'the second connection stays unacknowledged');
    const fw2 = await waitForEnd(ctx, held, 'FIN-WAIT-2', { label: 'ACK let through: FIN-WAIT-2' });
    const gone = await waitForGone(ctx, left, { timeoutMs: 200 * 2 ** (o.retries + 2) + 5000, progress: true, label: 'the unacknowledged orphan is gone' });
    const lifeMs = gone.atMs - killedAt;
    const delta = counterDelta(before, await readCounters(), ['Tcp.RetransSegs', 'TcpExt.TCPAbortOnTimeout']);
    await faults.lift(other);
    return {
      retries: o.retries, afterKill: stateIn(fw1, held), leftAfterKill: stateIn(fw1, left), afterAck: stateIn(fw2, held),
      lifeMs, retrans: delta['Tcp.RetransSegs'] ?? 0, abortOnTimeout: delta['TcpExt.TCPAbortOnTimeout'] ?? 0,
    };
  },
  judge: (ev) => ({
    'killed-passes-fin-wait-1': all(
      is("the killed side's socket while its FIN was unacknowledged", ev.afterKill, 'FIN-WAIT-1'),
      is('the same socket once the ACK arrived', ev.afterAck, 'FIN-WAIT-2'),
    ),
    'orphan-fin-wait-1-retries': all(
      need('the orphan was in FIN-WAIT-1 with its FIN unacknowledged', ev.leftAfterKill === 'FIN-WAIT-1', `it was ${ev.leftAfterKill}`),
      atLeast(`retransmissions counted while it lived (tcp_orphan_retries = ${ev.retries}; both orphans included)`, ev.retrans, ev.retries),
      between('its life from the kill until ss no longer listed it (RTO backoff from 200 ms, +1 s)', ev.lifeMs, 200, 200 * 2 ** (ev.retries + 2) + 1000, 'ms'),
      atLeast('TcpExt.TCPAbortOnTimeout (the kernel gave up on it)', ev.abortOnTimeout, 1),
    ),
  }),
});
