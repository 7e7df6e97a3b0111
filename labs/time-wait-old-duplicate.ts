// An old duplicate of a finished connection's data, copied from the run's capture and re-sent raw: what TIME-WAIT
// answers (and what that draws from the peer); does a server restarted over TIME-WAIT ever see that data?
import { A000, A001, Faults, LOOPBACK, NFT_INSTALL, all, because, defineLab, is, listen, missing, need, pair, replay, some, stateIn, waitForEnd, yes, type LabContext, type Segment } from '../harness/index.ts';

const DATA = 'old-data!!';

/** A connection whose server closed first and sits in TIME-WAIT, with what the capture saw of it. */
async function finished(ctx: LabContext, label: string) {
  const p = await pair(ctx, { reuseaddr: true });
  const [c, s] = [p.ends.client, p.ends.server];
  ctx.step(`${label}: the client sends ${DATA.length} bytes; the server closes first, the client answers with its FIN`);
  p.client.once('end', () => p.client.end()).resume();
  p.server.resume();
  p.client.write(DATA);
  await new Promise((r) => p.server.once('data', r));
  p.server.end();
  const state = stateIn(await waitForEnd(ctx, s, 'TIME-WAIT', { label: `${label}: the server in TIME-WAIT` }), s);
  const segs = (await ctx.segments()) ?? [];
  const from = (a: number, b: number) => (x: Segment) => x.sport === a && x.dport === b;
  const data = segs.find((x) => from(c.localPort, s.localPort)(x) && x.len === DATA.length);
  const fin = segs.find((x) => from(c.localPort, s.localPort)(x) && x.flags.includes('F'));
  const serverFin = segs.find((x) => from(s.localPort, c.localPort)(x) && x.flags.includes('F'));
  return { p, c, s, state, inject: (what: string) => replay(ctx, data!, what, { payload: Buffer.from(DATA) }), ok: !!(data && fin && serverFin), expect: { ack: ((fin?.seq ?? 0) + 1) >>> 0, seq: ((serverFin?.seq ?? 0) + 1) >>> 0 } };
}

export default defineLab({
  title: 'An old duplicate segment in TIME-WAIT: answered with the right ACK, and never delivered to a restarted server',
  setup:
    'In each of two connections the client sends 10 bytes and the server closes first, so the server keeps TIME-WAIT. ' +
    "The lab takes the client's data segment from the run's own capture and sends an exact copy (same sequence " +
    'numbers, timestamps and bytes) through a raw socket: an old duplicate. First into the TIME-WAIT as it is; the ' +
    "capture shows the answer and what the client's side (no socket any more) does with it. Then, with the client's " +
    'resets dropped so the TIME-WAIT stays, the server restarts on the same port with SO_REUSEADDR and the copy is ' +
    'sent again: does the new server get a connection or data? tcp_invalid_ratelimit is 0 so no answer is held back.',
  claims: {
    'old-duplicate-acked': [A000, 'An old duplicate segment that reaches a connection in TIME_WAIT does not match the sequence numbers expected; the TIME_WAIT end answers it with an ACK of the right sequence number.'],
    'restart-stray-data': [A001, 'A server restarted with SO_REUSEADDR while its old connection is in TIME_WAIT may receive stray data of that old connection.'],
  },
  sysctls: { 'net.ipv4.tcp_invalid_ratelimit': '0' },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    const one = await finished(ctx, 'first connection');
    if (!one.ok) return { captured: (await ctx.segments()) !== undefined, found: false as const };
    ctx.step("send the old duplicate into the server's TIME-WAIT");
    const first = await one.inject('old duplicate');
    const after = stateIn(await ctx.snapshot('after the old duplicate', { focus: { port: one.s.localPort } }), one.s);
    const two = await finished(ctx, 'second connection');
    const faults = await Faults.open(ctx);
    await faults.drop({ kind: 'rst', fromPort: two.c.localPort }, "keep the old connection's TIME-WAIT through the exchange");
    ctx.step('restart the server on the same port with SO_REUSEADDR, then send the duplicate of the old connection');
    await two.p.listener.close();
    const again = await listen({ host: LOOPBACK, port: two.s.localPort, reuseaddr: true });
    ctx.defer(() => again.close());
    let bytes = 0;
    again.server.on('connection', (k) => k.on('data', (b: Buffer) => (bytes += b.length)));
    const second = await two.inject('stray segment after the restart');
    const restarted = stateIn(await ctx.snapshot('after the restart and the stray segment', { focus: { port: two.s.localPort } }), two.s);
    return {
      captured: true, found: true as const, expect: one.expect, stateBefore: one.state, first: first.answer, peer: first.peer, stateAfter: after,
      restartOver: two.state, second: second.answer, stateAfterRestart: restarted, accepted: again.connections.length, bytes,
    };
  },
  judge: (ev) => {
    if (!ev.found) {
      const why = ev.captured ? 'the capture holds no data segment and FINs of the connection to copy' : 'the run had no packet capture (--no-capture, or the kernel refused one)';
      return { 'old-duplicate-acked': missing('the answer to an old duplicate', why), 'restart-stray-data': missing('a stray segment after a restart', why) };
    }
    return {
      'old-duplicate-acked': because(all(
        need('the server end was in TIME-WAIT when the duplicate came', ev.stateBefore === 'TIME-WAIT', `it was ${ev.stateBefore}`),
        is("the flags of the server's answer", ev.first?.flags ?? 'no answer', '.'),
        is("its acknowledgment number (the client's FIN + 1)", ev.first?.ack ?? 'no answer', ev.expect.ack),
        is("its sequence number (the server's FIN + 1)", ev.first?.seq ?? 'no answer', ev.expect.seq),
      ), `The client's side, which had no socket left, answered that ACK with ${ev.peer ? `[${ev.peer.flags}]` : 'nothing'}, and the server's end was then ${ev.stateAfter}.`),
      'restart-stray-data': because(some(
        need('the old connection was in TIME-WAIT when the server restarted', ev.restartOver === 'TIME-WAIT', `it was ${ev.restartOver}`),
        yes('the restarted server accepted a connection or read data from the stray segment', ev.accepted > 0 || ev.bytes > 0),
      ), `The stray segment was answered with ${ev.second ? `[${ev.second.flags}] ack ${ev.second.ack}` : 'nothing'}; the old connection was then ${ev.stateAfterRestart}; the new listener accepted ${ev.accepted} connection(s) and read ${ev.bytes} bytes.`),
    };
  },
  tables: (ev) => (ev.found ? [{
    title: 'Old duplicates and what answered them (from the capture)',
    columns: ['sent into', 'answer', 'its seq / ack', 'expected seq / ack', "client side's reply", 'old connection after'],
    rows: [
      ['TIME-WAIT', ev.first ? `[${ev.first.flags}]` : 'none', ev.first ? `${ev.first.seq} / ${ev.first.ack}` : '-', `${ev.expect.seq} / ${ev.expect.ack}`, ev.peer ? `[${ev.peer.flags}]` : 'none', ev.stateAfter],
      ['TIME-WAIT under a restarted server (client resets dropped)', ev.second ? `[${ev.second.flags}]` : 'none', ev.second ? `${ev.second.seq} / ${ev.second.ack}` : '-', 'its own', '(dropped)', ev.stateAfterRestart],
    ],
    note: `The restarted server accepted ${ev.accepted} connection(s) and read ${ev.bytes} bytes.`,
  }] : []),
});
