// FIN-WAIT-1 straight to TIME-WAIT when the peer's ACK and FIN come in one segment: shown from the packet capture.
import { A001, all, defineLab, int, is, missing, need, pair, stateIn, waitForEnd, type End, type Segment } from '../harness/index.ts';

const CASES = ['at-once', 'later'] as const;
const ATTEMPTS = 3;
type Case = (typeof CASES)[number];

/** What the capture shows after the client's FIN: the server's segments until its FIN, and whether one carried both. */
function afterFin(segs: readonly Segment[], end: End) {
  const mine = segs.filter((s) => (s.sport === end.localPort && s.dport === end.peerPort) || (s.sport === end.peerPort && s.dport === end.localPort));
  const fin = mine.find((s) => s.sport === end.localPort && s.flags.includes('F'));
  if (!fin) return undefined;
  const replies = mine.filter((s) => s.sport === end.peerPort && s.tUs >= fin.tUs);
  const upToFin = replies.slice(0, replies.findIndex((s) => s.flags.includes('F')) + 1 || replies.length);
  const serverFin = upToFin.find((s) => s.flags.includes('F'));
  const acksOurFin = (s: Segment) => s.flags.includes('.') && s.ack === ((fin.seq + fin.len + 1) >>> 0);
  return {
    replies: upToFin.map((s) => s.flags),
    combined: !!serverFin && acksOurFin(serverFin) && upToFin.length === 1,
    separateAckMs: upToFin.length > 1 && acksOurFin(upToFin[0]) ? Math.round((serverFin ? serverFin.tUs - upToFin[0].tUs : 0) / 1000) : undefined,
  };
}

export default defineLab({
  title: "FIN-WAIT-1 straight to TIME-WAIT when the peer's ACK and FIN arrive in one segment (from the capture)",
  setup:
    'The client closes first (FIN-WAIT-1). In one connection the server closes as soon as it reads the end of the ' +
    'stream, in another only after a pause. The packet capture shows what the server sent after the client\'s FIN: ' +
    'one segment carrying both its ACK and its FIN, or a bare ACK and later a FIN; ss shows the client\'s states ' +
    'between the two. Needs the capture (not --no-capture).',
  claims: {
    'fin-ack-straight-to-time-wait': [A001, "When the FIN_WAIT_1 side receives the ACK of its FIN and the peer's FIN in one segment, it goes straight to TIME_WAIT without FIN_WAIT_2."],
  },
  options: { pause: int(50, 2000, 300, 'how long the second server waits before it closes', 'ms') },
  async run(ctx, o) {
    type Seen = { replies?: string[]; combined?: boolean; separateAckMs?: number; between: string; final: string };
    const once = async (c: Case, label: string): Promise<Seen> => {
      const p = await pair(ctx);
      ctx.step(c === 'at-once' ? `${label}the client closes; the server closes as soon as it reads the end of the stream` : `the client closes; the server closes ${o.pause} ms after it reads the end of the stream`);
      p.server.once('end', () => (c === 'at-once' ? p.server.end() : setTimeout(() => p.server.end(), o.pause)));
      p.server.resume();
      p.client.end();
      // between the server's ACK and its FIN (the pause), the client's state as ss shows it
      const between = c === 'later' ? stateIn(await waitForEnd(ctx, p.ends.client, 'FIN-WAIT-2', { label: `${c}: before the server's FIN` }), p.ends.client) : 'none (no pause)';
      const final = stateIn(await waitForEnd(ctx, p.ends.client, 'TIME-WAIT', { label: `${c}: after the server's FIN` }), p.ends.client);
      const segs = await ctx.segments();
      return { between, final, ...(segs ? afterFin(segs, p.ends.client) : {}) };
    };
    // the kernel holds back the ACK of a FIN briefly (delayed ACK); a server that closes within that window sends
    // one FIN+ACK. A busy machine can miss the window, so the at-once close is tried up to ATTEMPTS times
    const tries: Seen[] = [];
    for (let i = 1; i <= ATTEMPTS && !tries.at(-1)?.combined; i++) tries.push(await once('at-once', i > 1 ? `again (attempt ${i}): ` : ''));
    const cases: Record<Case, Seen> = { 'at-once': tries.at(-1)!, later: await once('later', '') };
    return { captured: (await ctx.segments()) !== undefined, pause: o.pause, attempts: tries.map((t) => t.replies?.join(' ') ?? 'not captured'), cases };
  },
  judge: (ev) => {
    const [now, later] = [ev.cases['at-once'], ev.cases.later];
    return {
      'fin-ack-straight-to-time-wait': !ev.captured || now?.combined === undefined
        ? missing('the segments the server sent after the client\'s FIN', ev.captured ? 'the capture holds no FIN from the client' : 'the run had no packet capture (--no-capture, or the kernel refused one)')
        : all(
          need('the server answered the FIN at once with one segment carrying its ACK and its FIN', now.combined, `in ${ev.attempts?.length ?? 1} attempt(s) it sent ${ev.attempts?.join('; ') || now.replies?.join(' then ') || 'nothing'}`),
          is('the client after that one segment', now.final, 'TIME-WAIT'),
          // the contrast that shows the method can see FIN-WAIT-2 at all: with a pause, the ACK alone, then the wait
          need(`with a ${ev.pause} ms pause the ACK came alone and the client waited in FIN-WAIT-2`, !!later && later.combined === false && later.between === 'FIN-WAIT-2', `the server sent ${later?.replies?.join(' then ') || 'nothing'}; ss showed the client ${later?.between ?? 'not at all'}`),
        ),
    };
  },
  tables: (ev) => [{
    title: "What the server sent after the client's FIN (from the capture), and the client's states",
    columns: ['server closes', "server's segments up to its FIN", 'one segment with ACK and FIN', 'client between', 'client after'],
    rows: CASES.map((c) => {
      const x = ev.cases[c];
      return [c === 'at-once' ? 'on reading EOF' : `${ev.pause} ms later`, x?.replies?.map((f) => `[${f}]`).join(' ') ?? 'not captured', x?.combined === undefined ? '?' : x.combined ? 'yes' : `no${x.separateAckMs !== undefined ? ` (FIN ${x.separateAckMs} ms after the ACK)` : ''}`, x?.between ?? '?', x?.final ?? '?'];
    }),
  }],
});
