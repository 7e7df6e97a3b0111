// The four-way close step by step, with the client or the server closing first, and FIN-WAIT-1 straight to TIME-WAIT.
import { A001, Faults, NFT_INSTALL, WaitTimeout, all, defineLab, is, list, need, pair, stateIn, waitForEnd, waitForGone, type End, type SnapshotRecord } from '../harness/index.ts';

const CLOSERS = ['client', 'server'] as const;

export default defineLab({
  title: 'The four-way close step by step: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, TIME-WAIT',
  setup:
    'A connection is closed with an nft rule holding each fleeting state long enough for ss: the ACK of the first ' +
    'FIN is dropped (FIN-WAIT-1), then let through (FIN-WAIT-2; the passive side sits in CLOSE-WAIT and may still ' +
    "send), then the closer's final ACK is dropped (LAST-ACK on the passive side, TIME-WAIT on the closer). It runs " +
    "with the client and with the server closing first (shutdown(SHUT_WR), Node's end()). A last connection has " +
    "every pure ACK of the peer dropped, so the only ACK of the closer's FIN rides on the peer's FIN.",
  claims: {
    'fin-wait-1': [A001, 'A socket that closes first sends a FIN and is in FIN_WAIT_1 until that FIN is acknowledged, then in FIN_WAIT_2; FIN_WAIT_1 is rarely seen because the peer normally ACKs at once.'],
    'fin-wait-2-half-open': [A001, "FIN_WAIT_2 is a half-closed connection: the closer is waiting for the peer's FIN while the peer may still send it data."],
    'close-wait': [A001, 'The side that receives the FIN acknowledges it and stays in CLOSE_WAIT until its application closes the socket.'],
    'last-ack': [A001, 'The passive closer, after sending its own FIN, waits in LAST_ACK for the final ACK and is then CLOSED.'],
    'time-wait-on-closer': [A001, "The side that closed first ends in TIME_WAIT after acknowledging the peer's FIN."],
    'active-not-client': [A001, 'Active and passive close do not map to client and server: whichever side closes first is the active closer.'],
    'fin-wait-1-to-time-wait': [A001, 'A socket in FIN_WAIT_1 that receives a segment carrying both FIN and ACK goes straight to TIME_WAIT without passing through FIN_WAIT_2.'],
  },
  options: { closer: list(CLOSERS, CLOSERS, 'which side closes first (each given runs its own sequence)') },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    const faults = await Faults.open(ctx);
    const seqs = await ctx.matrix({ closer: o.closer }, async ({ closer }) => {
      const p = await pair(ctx);
      const [active, passive] = closer === 'client' ? [p.client, p.server] : [p.server, p.client];
      const me: End = { ...(closer === 'client' ? p.ends.client : p.ends.server), name: `${closer} (active closer)` };
      const peer: End = { ...(closer === 'client' ? p.ends.server : p.ends.client), name: 'passive side' };
      const both = (s: SnapshotRecord) => `${stateIn(s, me)} / ${stateIn(s, peer)}`;
      let received = '';
      active.on('data', (d: Buffer) => (received += d.toString()));
      ctx.step(`${closer} closes first: drop the passive side's ACKs, then the ${closer} sends its FIN`);
      const ackRule = await faults.drop({ kind: 'fin-ack', fromPort: peer.localPort }, 'the ACK of the FIN never arrives');
      active.end();
      await waitForEnd(ctx, peer, 'CLOSE-WAIT');
      const fw1 = await waitForEnd(ctx, me, 'FIN-WAIT-1', { label: `${closer} closes: FIN-WAIT-1 / CLOSE-WAIT` });
      const finAcksDropped = await faults.lift(ackRule);
      const fw2 = await waitForEnd(ctx, me, 'FIN-WAIT-2', { label: `${closer} closes: FIN-WAIT-2 / CLOSE-WAIT` });
      const late = 'late data from the passive side';
      passive.write(late);
      await ctx.waitSs('the late data to arrive', () => received === late, { timeoutMs: 2000 }).catch((e) => { if (!(e instanceof WaitTimeout)) throw e; });
      ctx.step(`${closer} closes first: drop the closer's ACKs, then the passive side closes`);
      const lastRule = await faults.drop({ kind: 'ack', fromPort: me.localPort }, 'the final ACK never arrives');
      passive.destroy();
      await waitForEnd(ctx, me, 'TIME-WAIT');
      const la = await waitForEnd(ctx, peer, 'LAST-ACK', { label: `${closer} closes: TIME-WAIT / LAST-ACK` });
      const lastAcksDropped = await faults.lift(lastRule);
      const closed = await waitForGone(ctx, peer, { timeoutMs: 4000, label: `${closer} closes: closed` });
      return { finAcksDropped, lastAcksDropped, late: `${received.length} of ${late.length} bytes`, lateAll: received === late, fw1: both(fw1), fw2: both(fw2), lastAck: both(la), closed: both(closed) };
    });
    ctx.step("FIN+ACK: drop the server's pure ACKs, the client closes, then the server closes too");
    const q = await pair(ctx);
    const pure = await faults.drop({ kind: 'ack', fromPort: q.serverPort }, 'only an ACK riding on a FIN can get through');
    const fins = await faults.count({ kind: 'fin', fromPort: q.serverPort }, "count the server's FINs");
    q.client.end();
    await waitForEnd(ctx, q.ends.server, 'CLOSE-WAIT');
    const before = stateIn(await waitForEnd(ctx, q.ends.client, 'FIN-WAIT-1', { label: 'FIN+ACK: FIN-WAIT-1 / CLOSE-WAIT' }), q.ends.client);
    q.server.destroy();
    const after = await ctx.waitSs("the client's answer to the server's FIN", (xs) => stateIn(xs, q.ends.client) !== 'FIN-WAIT-1', { label: "FIN+ACK: after the server's FIN" });
    return { seqs, shortcut: { before, after: stateIn(after, q.ends.client), pureAcksDropped: await faults.lift(pure), fins: await faults.lift(fins) } };
  },
  judge: ({ seqs, shortcut: s }) => {
    const per = <T,>(f: (c: string, e: NonNullable<(typeof seqs)[number]['evidence']>) => T) => seqs.map((x) => (x.evidence ? f(x.closer, x.evidence) : is(`${x.closer} closes first`, undefined, 'run')));
    const ran = need('every close sequence ran', seqs.length > 0 && seqs.every((x) => x.evidence), seqs.map((x) => x.error ?? `${x.closer}: ran`).join('; '));
    const server = seqs.find((x) => x.closer === 'server')?.evidence;
    return {
      'fin-wait-1': all(ran, need('the rule dropped the ACK of the FIN', seqs.every((x) => (x.evidence?.finAcksDropped ?? 0) > 0), 'it dropped none'), per((c, e) => is(`${c} closes: closer / passive while the ACK of its FIN was dropped`, e.fw1, 'FIN-WAIT-1 / CLOSE-WAIT')), per((c, e) => is(`${c} closes: once an ACK got through`, e.fw2, 'FIN-WAIT-2 / CLOSE-WAIT'))),
      'fin-wait-2-half-open': all(ran, per((c, e) => is(`${c} closes: closer / passive after the ACK`, e.fw2, 'FIN-WAIT-2 / CLOSE-WAIT')), per((c, e) => is(`${c} closes: data the passive side wrote then reached the closer (${e.late})`, e.lateAll, true))),
      'close-wait': all(ran, per((c, e) => is(`${c} closes: passive side before it closed, then after`, `${e.fw1.split(' / ')[1]} -> ${e.fw2.split(' / ')[1]} -> ${e.lastAck.split(' / ')[1]}`, 'CLOSE-WAIT -> CLOSE-WAIT -> LAST-ACK'))),
      'last-ack': all(ran, need('the rule dropped the final ACK', seqs.every((x) => (x.evidence?.lastAcksDropped ?? 0) > 0), 'it dropped none'), per((c, e) => is(`${c} closes: passive side with the final ACK dropped / once it arrived`, `${e.lastAck.split(' / ')[1]} / ${e.closed.split(' / ')[1]}`, 'LAST-ACK / absent'))),
      'time-wait-on-closer': all(ran, per((c, e) => is(`${c} closes: closer after the peer's FIN / at the end`, `${e.lastAck.split(' / ')[0]} / ${e.closed.split(' / ')[0]}`, 'TIME-WAIT / TIME-WAIT'))),
      'active-not-client': all(need('a sequence with the server closing first ran', !!server, 'needs --closer server'), is('server closed first: server (closer) at the end / client (passive) while the final ACK was dropped', server && `${server.closed.split(' / ')[0]} / ${server.lastAck.split(' / ')[1]}`, 'TIME-WAIT / LAST-ACK')),
      'fin-wait-1-to-time-wait': all(
        need("the client was in FIN-WAIT-1 with every pure ACK dropped, and the server's FIN went out", s.before === 'FIN-WAIT-1' && s.pureAcksDropped > 0 && s.fins >= 1, `client ${s.before}, ${s.pureAcksDropped} pure ACK(s) dropped, ${s.fins} FIN(s)`),
        is("the client's next state after the server's FIN+ACK", s.after, 'TIME-WAIT'),
      ),
    };
  },
  tables: ({ seqs }) => [{
    title: 'State of (active closer / passive side) at each step',
    columns: ['step', ...seqs.map((x) => `${x.closer} closes first`)],
    rows: (['fw1', 'fw2', 'lastAck', 'closed'] as const).map((k, i) => [['closer sent FIN, ACK dropped', 'ACK let through', 'passive sent FIN, final ACK dropped', 'final ACK let through'][i], ...seqs.map((x) => x.evidence?.[k] ?? x.error ?? '')]),
  }],
});
