// Article 001's state legend, line by line, against the states and timers ss shows and the segments captured.
import { A001, Faults, NFT_INSTALL, WaitTimeout, all, atMost, because, check, defineLab, endIn, every, hasSysctl, is, isNot, need, pair, stateIn, waitForEnd, waitForGone, type SnapshotRecord } from '../harness/index.ts';

export default defineLab({
  title: "Article 001's state legend against the kernel: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, LAST_ACK",
  setup:
    "One loopback connection, closed by the client first, is held at each step by an nft rule: the ACK of the client's " +
    'FIN is dropped (FIN-WAIT-1), then let through (FIN-WAIT-2); then the final ACK is dropped while the server ' +
    'closes (LAST-ACK on the server, TIME-WAIT on the client) until ss shows the server re-sending its FIN, and let ' +
    "through; the capture dates the final ACK. A second connection loses the client's FIN, so the client, still in " +
    "FIN-WAIT-1, receives the server's FIN without the ACK of its own.",
  claims: {
    'fin-wait-1-app-done': [A001, 'FIN_WAIT_1 (legend of the census output) means the application has said it is finished.'],
    'fin-wait-2-peer-agreed': [A001, 'FIN_WAIT_2 (legend) means the other side has agreed to the release.'],
    'fin-waits-wait-for-fin': [A001, "FIN_WAIT_1 and FIN_WAIT_2 both really mean waiting for the peer's FIN; they differ only in whether the ACK of one's own FIN has come."],
    'time-wait-peer-began': [A001, 'TIME_WAIT (legend) means the other side has initiated the release.'],
    'last-ack-packets-die': [A001, 'LAST_ACK (legend) means waiting for all packets to die off.'],
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    const faults = await Faults.open(ctx);
    // the waits below are FIN retransmissions: a shorter minimum RTO (6.11+, sandbox only) makes them quicker
    if (hasSysctl('net.ipv4.tcp_rto_min_us')) await ctx.sysctl('net.ipv4.tcp_rto_min_us', '20000');
    const p = await pair(ctx);
    const [c, s] = [p.ends.client, p.ends.server];
    const both = (x: SnapshotRecord) => ({ client: stateIn(x, c), server: stateIn(x, s) });
    const est = both(await waitForEnd(ctx, c, 'ESTAB', { label: 'connected' }));
    ctx.step("the client's application says it is finished (shutdown) while the ACK of its FIN is dropped");
    const finAck = await faults.drop({ kind: 'fin-ack', fromPort: s.localPort }, 'the ACK of the FIN never arrives');
    p.client.end();
    await waitForEnd(ctx, s, 'CLOSE-WAIT');
    const fw1 = both(await waitForEnd(ctx, c, 'FIN-WAIT-1', { label: 'FIN-WAIT-1: the ACK of its FIN dropped' }));
    const finAcksDropped = await faults.lift(finAck);
    const fw2 = both(await waitForEnd(ctx, c, 'FIN-WAIT-2', { label: 'FIN-WAIT-2: the ACK let through' }));
    ctx.step("the server's application closes while the client's final ACK is dropped");
    const lastAck = await faults.drop({ kind: 'ack', fromPort: c.localPort }, 'the final ACK never arrives');
    p.server.destroy();
    const held = await ctx.waitSs('the LAST-ACK socket to re-send its FIN', (xs) => (endIn(xs, s)?.timer?.retransmits ?? 0) >= 1, { label: 'LAST-ACK: its FIN re-sent', timeoutMs: 3000 })
      .catch((e) => { if (e instanceof WaitTimeout) return ctx.snapshot('LAST-ACK: no FIN re-sent'); throw e; });
    const [laT, twT] = [endIn(held, s)?.timer, endIn(held, c)?.timer];
    const la = { ...both(held), lastAckTimer: laT?.name, timeWaitTimer: twT?.name, finsSent: laT ? 1 + laT.retransmits : undefined };
    const lastAcksDropped = await faults.lift(lastAck);
    const gone = await waitForGone(ctx, s, { label: 'LAST-ACK: gone once the ACK got through', timeoutMs: 4000 });
    // the ACK that ended LAST-ACK is the client's last pure ACK to the server (nothing follows a closed socket)
    const finalAck = (await ctx.segments())?.filter((x) => x.sport === c.localPort && x.dport === s.localPort && x.flags === '.' && x.atMs <= gone.atMs).at(-1);
    const end = { ...both(gone), ackToGoneMs: finalAck ? gone.atMs - finalAck.atMs : undefined };
    ctx.step("a second connection: the client's FIN is lost, then the server closes");
    const q = await pair(ctx);
    const lostFin = await faults.drop({ kind: 'fin', toPort: q.serverPort }, "the client's FIN never arrives");
    q.client.end();
    await waitForEnd(ctx, q.ends.client, 'FIN-WAIT-1');
    q.server.destroy();
    const next = await ctx.waitSs("the client's answer to the server's FIN", (xs) => stateIn(xs, q.ends.client) !== 'FIN-WAIT-1', { label: "FIN-WAIT-1: after the server's FIN" });
    const crossed = { client: stateIn(next, q.ends.client), server: stateIn(next, q.ends.server), finsLost: await faults.packets(lostFin) };
    return { est, fw1, finAcksDropped, fw2, la, lastAcksDropped, end, crossed };
  },
  judge: ({ est, fw1, finAcksDropped, fw2, la, lastAcksDropped, end, crossed }) => ({
    'fin-wait-1-app-done': all(
      need("the ACK of the client's FIN was dropped", finAcksDropped > 0, 'the rule dropped none'),
      is('the client before its application closed', est.client, 'ESTAB'),
      is('the client once its application called shutdown(), nothing else having changed', fw1.client, 'FIN-WAIT-1'),
    ),
    'fin-wait-2-peer-agreed': because(all(
      need("the ACK of the client's FIN was held back first", finAcksDropped > 0 && fw1.client === 'FIN-WAIT-1', `client ${fw1.client}, ${finAcksDropped} ACK(s) dropped`),
      is('the client once the ACK of its FIN got through', fw2.client, 'FIN-WAIT-2'),
      is('the server by then (a CLOSE-WAIT end has not sent its FIN)', fw2.server, 'CLOSE-WAIT'),
    ), "The other side's agreement was its kernel's ACK alone: its application had not closed."),
    'fin-waits-wait-for-fin': all(
      need("FIN-WAIT-2 was reached, and the second client's FIN was lost (the server's FIN could not acknowledge it)", fw2.client === 'FIN-WAIT-2' && crossed.finsLost > 0, `client ${fw2.client}; ${crossed.finsLost} FIN(s) dropped`),
      is("FIN-WAIT-2, on the peer's FIN: the client's next state", la.client, 'TIME-WAIT'),
      check("FIN-WAIT-1, on the peer's FIN without the ACK of its own: the client's next state", crossed.client, 'TIME-WAIT (its wait over, as in FIN-WAIT-2)', crossed.client === 'TIME-WAIT'),
    ),
    'time-wait-peer-began': every(
      need('the client closed first and the server then closed too', fw1.server === 'CLOSE-WAIT' && la.server === 'LAST-ACK', `server ${fw1.server}, then ${la.server}`),
      check("the server, whose peer initiated the release: after its own close, then at the end", `${la.server} -> ${end.server}`, 'TIME-WAIT', la.server === 'TIME-WAIT' || end.server === 'TIME-WAIT'),
      isNot('the client, which initiated the release itself, after the server closed', la.client, 'TIME-WAIT'),
    ),
    'last-ack-packets-die': every(
      need('LAST-ACK was held with the final ACK dropped, then let through', la.server === 'LAST-ACK' && lastAcksDropped > 0, `server ${la.server}, ${lastAcksDropped} ACK(s) dropped`),
      check(`the LAST-ACK socket's ss timer (the TIME-WAIT socket beside it: ${la.timeWaitTimer ?? '?'})`, la.lastAckTimer, "a wait-out timer, as TIME-WAIT's", la.lastAckTimer === la.timeWaitTimer),
      atMost('FINs the server sent while it waited in LAST-ACK (1 + the retransmissions of its ss timer)', la.finsSent, 1),
      check('ms from the final ACK (in the capture) to ss no longer listing the socket', end.ackToGoneMs, 'kept after its last segment for packets to die off (at least 1000 ms)', (end.ackToGoneMs ?? 0) >= 1000, 'ms'),
    ),
  }),
  tables: ({ est, fw1, fw2, la, end, crossed }) => [{
    title: 'Client and server states at each step (first connection), and the crossed FIN (second)', columns: ['step', 'client', 'server'],
    rows: ([['connected', est], ["client shutdown(), the ACK of its FIN dropped", fw1], ['that ACK let through', fw2], [`server closed, final ACK dropped (timers: ${la.timeWaitTimer} / ${la.lastAckTimer}; ${la.finsSent ?? '?'} server FINs)`, la],
      [`final ACK let through${end.ackToGoneMs === undefined ? '' : ` (server gone ${end.ackToGoneMs} ms after it)`}`, end], ["second connection: client's FIN lost, then the server's FIN", crossed]] as const).map(([step, x]) => [step, x.client, x.server]),
  }],
});
