// A killed process whose FIN is not acknowledged: does its socket pass through FIN-WAIT-1, and what ends it?
import { A003, Faults, LOOPBACK, NFT_INSTALL, all, atLeast, between, counterDelta, defineLab, endsOf, int, is, listen, need, readCounters, startActors, stateIn, machineSlowness, waitForEnd, waitForGone } from '../harness/index.ts';

export default defineLab({
  title: 'A killed process: FIN-WAIT-1 first, and an orphan whose FIN is never ACKed lasts tcp_orphan_retries',
  seconds: 3.5,
  setup:
    "Two client actors connect to the lab's listener, and nft rules drop the server's ACKs to both. The first is " +
    "SIGKILLed: its kernel sends a FIN that nobody acknowledges, so its now-orphaned socket is held where it is, " +
    'until the rule is lifted and the socket moves on (tcp_orphan_retries 8, the kernel default, meanwhile: held ' +
    'however long the harness takes). Then tcp_orphan_retries is set low and the second is SIGKILLed, its FIN never ' +
    'acknowledged; the lab times how long that orphan lives and counts its retransmissions. Where the harness runs k ' +
    'times slower (an emulated guest, a busy host) that orphan must outlive its steps too: tcp_orphan_retries is raised ' +
    'by log2(k), each retry doubling its life (at most 8), and the judge uses the value set.',
  claims: {
    'killed-passes-fin-wait-1': [A003, 'The side whose process was killed sends a FIN and passes through FIN_WAIT_1 before FIN_WAIT_2.'],
    'orphan-fin-wait-1-retries': [A003, 'An orphaned FIN_WAIT_1 whose FIN is never acknowledged is retransmitted up to tcp_orphan_retries times, and then the socket goes away.'],
  },
  options: { retries: int(1, 6, 2, 'net.ipv4.tcp_orphan_retries inside the sandbox for the second orphan (raised on a slower machine, see the set-up)', 'retransmissions') },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    const scale = machineSlowness();
    const retries = Math.min(8, o.retries + Math.ceil(Math.log2(scale)));
    const faults = await Faults.open(ctx);
    const port = ctx.port();
    const l = await listen({ host: LOOPBACK, port, allowHalfOpen: true });
    ctx.defer(() => l.close());
    const victims = await startActors(ctx, ['victim', 'orphan']);
    const conns = [await victims[0].connect(port), await victims[1].connect(port)];
    for (let i = 0; i < conns.length; i++) await l.nextConnection();
    const [held, left] = conns.map((c) => endsOf(c.localPort, port).client);
    ctx.step("drop the server's ACKs to both connections; SIGKILL the first client, then let its ACKs through");
    const [rule, other] = [await faults.drop({ kind: 'ack', fromPort: port, toPort: held.localPort }, "no ACK of the killed side's FIN (until lifted)"), await faults.drop({ kind: 'ack', fromPort: port, toPort: left.localPort }, 'the second connection stays unacknowledged')];
    await ctx.sysctl('net.ipv4.tcp_orphan_retries', '8');
    await victims[0].kill('SIGKILL');
    const fw1 = await waitForEnd(ctx, held, 'FIN-WAIT-1', { label: 'after the kill: FIN-WAIT-1' });
    await faults.lift(rule);
    const fw2 = await waitForEnd(ctx, held, 'FIN-WAIT-2', { label: 'ACK let through: FIN-WAIT-2' });
    ctx.step(`tcp_orphan_retries ${retries}; SIGKILL the second client, whose FIN is never acknowledged`);
    if (retries !== o.retries) ctx.note(`tcp_orphan_retries ${retries}, not ${o.retries}: the harness runs ${+scale.toFixed(2)}x slower here, and the orphan must outlive its steps`);
    await ctx.sysctl('net.ipv4.tcp_orphan_retries', String(retries));
    const before = await readCounters();
    const killedAt = ctx.elapsedMs();
    await victims[1].kill('SIGKILL');
    const orphan = await waitForEnd(ctx, left, 'FIN-WAIT-1', { label: 'the second orphan: FIN-WAIT-1' });
    const gone = await waitForGone(ctx, left, { timeoutMs: 200 * 2 ** (retries + 2) + 5000, progress: true, label: 'the unacknowledged orphan is gone' });
    const lifeMs = gone.atMs - killedAt;
    const delta = counterDelta(before, await readCounters(), ['Tcp.RetransSegs', 'TcpExt.TCPAbortOnTimeout']);
    await faults.lift(other);
    return {
      retries, afterKill: stateIn(fw1, held), leftAfterKill: stateIn(orphan, left), afterAck: stateIn(fw2, held),
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
      atLeast(`retransmissions counted while it lived (tcp_orphan_retries = ${ev.retries})`, ev.retrans, ev.retries),
      between('its life from the kill until ss no longer listed it (RTO backoff from 200 ms, +1 s)', ev.lifeMs, 200, 200 * 2 ** (ev.retries + 2) + 1000, 'ms'),
      atLeast('TcpExt.TCPAbortOnTimeout (the kernel gave up on it)', ev.abortOnTimeout, 1),
    ),
  }),
});
