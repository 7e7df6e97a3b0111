// An old duplicate of a finished connection's data arrives: what TIME-WAIT answers (and what that answer draws
// from the peer), and whether a server restarted over TIME-WAIT with SO_REUSEADDR ever sees that data. Each
// duplicate is built from the run's own capture and re-sent through a raw socket.
import { A000, A001, Faults, LOOPBACK, NFT_INSTALL, all, because, defineLab, is, listen, missing, need, pair, sendSegment, some, stateIn, until, waitForEnd, yes, type LabContext, type Segment } from '../harness/index.ts';

const DATA = 'old-data!!';
type Answer = { flags: string; seq: number; ack: number } | undefined;

/** A connection whose server closed first and sits in TIME-WAIT, with what the capture saw of it. */
async function finished(ctx: LabContext, label: string) {
  const p = await pair(ctx, { reuseaddr: true });
  const [c, s] = [p.ends.client, p.ends.server];
  ctx.step(`${label}: the client sends ${DATA.length} bytes; the server closes first, the client answers with its FIN`);
  p.client.once('end', () => p.client.end());
  p.client.resume();
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
  /** send the copy; the first segment each way after it, as the capture saw them (or none within a second) */
  const inject = async (what: string): Promise<{ answer: Answer; peer: Answer }> => {
    const at = ctx.elapsedMs();
    ctx.event('inject', `${what}: a copy of the client's data segment (seq ${data!.seq}, ack ${data!.ack}, ${DATA.length} bytes) sent raw`, { seq: data!.seq, ack: data!.ack });
    sendSegment({ src: LOOPBACK, dst: LOOPBACK, sport: c.localPort, dport: s.localPort, seq: data!.seq, ack: data!.ack, flags: 'P.', win: data!.win, ts: data!.options?.ts, payload: Buffer.from(DATA) });
    const seen = (xs: (Segment & { atMs: number })[] = []) => ({ answer: xs.find((x) => x.atMs >= at && from(s.localPort, c.localPort)(x)), peer: xs.find((x) => x.atMs >= at && from(c.localPort, s.localPort)(x) && x.len === 0) });
    const pick = (x?: Segment): Answer => (x ? { flags: x.flags, seq: x.seq, ack: x.ack } : undefined);
    const got = await until(async () => {
      const now = seen(await ctx.segments());
      return now.answer && (now.peer || now.answer.flags.includes('R')) ? { done: true, value: now } : { done: false, last: now };
    }, { what: `the answers to the ${what}`, timeoutMs: 1000, intervalMs: 20, signal: ctx.signal }).catch(async () => seen(await ctx.segments()));
    return { answer: pick(got.answer), peer: pick(got.peer) };
  };
  return { p, c, s, state, ok: !!(data && fin && serverFin), expect: { ack: ((fin?.seq ?? 0) + 1) >>> 0, seq: ((serverFin?.seq ?? 0) + 1) >>> 0 }, inject };
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
