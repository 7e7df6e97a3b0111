// FIN-WAIT-1 straight to TIME-WAIT when the peer's ACK and FIN come in one segment: shown from the packet capture.
import { setTimeout as sleep } from 'node:timers/promises';
import { A001, Faults, NFT_INSTALL, WaitTimeout, all, defineLab, int, is, missing, need, pair, stateIn, waitForEnd, type End, type Segment } from '../harness/index.ts';

const CASES = ['at-once', 'later'] as const;
type Case = (typeof CASES)[number];
const bare = (s: Segment) => s.flags.includes('.') && !/[SFR]/.test(s.flags); // what the drop rule matches (no data flows)

/**
 * What the capture shows after the client's FIN: the server's segments until its FIN (bare ACKs the rule dropped
 * marked: the capture sees them before the input hook does), and whether the first that reached the client carried both.
 */
function afterFin(segs: readonly Segment[], end: End, held: boolean) {
  const mine = segs.filter((s) => (s.sport === end.localPort && s.dport === end.peerPort) || (s.sport === end.peerPort && s.dport === end.localPort));
  const fin = mine.find((s) => s.sport === end.localPort && s.flags.includes('F'));
  if (!fin) return undefined;
  const replies = mine.filter((s) => s.sport === end.peerPort && s.tUs >= fin.tUs);
  const upToFin = replies.slice(0, replies.findIndex((s) => s.flags.includes('F')) + 1 || replies.length);
  const first = upToFin.find((s) => !(held && bare(s)));
  const serverFin = upToFin.find((s) => s.flags.includes('F'));
  const acksOurFin = (s: Segment) => s.flags.includes('.') && s.ack === ((fin.seq + fin.len + 1) >>> 0);
  return {
    replies: upToFin.map((s) => (held && bare(s) ? `${s.flags} (dropped)` : s.flags)),
    combined: !!first && first === serverFin && acksOurFin(first),
    separateAckMs: upToFin.length > 1 && acksOurFin(upToFin[0]) ? Math.round((serverFin ? serverFin.tUs - upToFin[0].tUs : 0) / 1000) : undefined,
  };
}

export default defineLab({
  title: "FIN-WAIT-1 straight to TIME-WAIT when the peer's ACK and FIN arrive in one segment (from the capture)",
  setup:
    'The client closes first (FIN-WAIT-1). In one connection the server closes as soon as it reads the end of the ' +
    "stream, while an nft rule drops any bare ACK it sends before that (a server slower than the delayed-ACK timer " +
    "sends one), so the client's next segment is the server's FIN. In another the server closes only once ss has shown " +
    "the client in FIN-WAIT-2, and at least --pause ms after it read the end of the stream. The packet capture shows " +
    'what the server sent after the client\'s FIN; ss the client\'s states. Needs the capture (not --no-capture).',
  claims: {
    'fin-ack-straight-to-time-wait': [A001, "When the FIN_WAIT_1 side receives the ACK of its FIN and the peer's FIN in one segment, it goes straight to TIME_WAIT without FIN_WAIT_2."],
  },
  options: { pause: int(50, 2000, 300, 'the least time between the second server reading the end of the stream and closing', 'ms') },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    const faults = await Faults.open(ctx);
    type Seen = { replies?: string[]; combined?: boolean; separateAckMs?: number; acksDropped: number; between: string; final: string };
    const once = async (c: Case): Promise<Seen> => {
      const p = await pair(ctx);
      const rule = c === 'at-once' ? await faults.drop({ kind: 'fin-ack', fromPort: p.serverPort }, "a bare ACK of the client's FIN never arrives") : undefined;
      ctx.step(c === 'at-once' ? 'the client closes; the server closes as soon as it reads the end of the stream' : `the client closes; the server closes once the client waits in FIN-WAIT-2, ${o.pause} ms or more after it reads the end of the stream`);
      const eof = new Promise<number>((resolve) => p.server.once('end', () => resolve(Date.now())));
      if (c === 'at-once') void eof.then(() => p.server.end());
      p.server.resume();
      p.client.end();
      let between = 'none (no pause)';
      if (c === 'later') {
        // the window between the server's ACK and its FIN lasts until ss has shown the client's state in it
        const seen = await waitForEnd(ctx, p.ends.client, 'FIN-WAIT-2', { label: `${c}: before the server's FIN` })
          .catch((e) => { if (e instanceof WaitTimeout) return ctx.snapshot(`${c}: no FIN-WAIT-2 seen`); throw e; });
        between = stateIn(seen, p.ends.client);
        await sleep(Math.max(0, (await eof) + o.pause - Date.now()));
        p.server.end();
      }
      const final = stateIn(await waitForEnd(ctx, p.ends.client, 'TIME-WAIT', { label: `${c}: after the server's FIN` }), p.ends.client);
      const [acksDropped, segs] = [rule ? await faults.lift(rule) : 0, await ctx.segments()];
      return { between, final, acksDropped, ...(segs ? afterFin(segs, p.ends.client, !!rule) : {}) };
    };
    const cases: Record<Case, Seen> = { 'at-once': await once('at-once'), later: await once('later') };
    return { captured: (await ctx.segments()) !== undefined, pause: o.pause, cases };
  },
  judge: (ev) => {
    const [now, later] = [ev.cases['at-once'], ev.cases.later];
    return {
      'fin-ack-straight-to-time-wait': !ev.captured || now?.combined === undefined
        ? missing('the segments the server sent after the client\'s FIN', ev.captured ? 'the capture holds no FIN from the client' : 'the run had no packet capture (--no-capture, or the kernel refused one)')
        : all(
          need('the first segment from the server to reach the client after its FIN carried both its ACK and its FIN', now.combined, `the server sent ${now.replies?.join(' then ') || 'nothing'}`),
          is('the client after that one segment', now.final, 'TIME-WAIT'),
          // the contrast that shows the method can see FIN-WAIT-2 at all: the ACK alone, then the wait
          need('when the server closed later, its ACK came alone and the client waited in FIN-WAIT-2', !!later && later.combined === false && later.between === 'FIN-WAIT-2', `the server sent ${later?.replies?.join(' then ') || 'nothing'}; ss showed the client ${later?.between ?? 'not at all'}`),
        ),
    };
  },
  tables: (ev) => [{
    title: "What the server sent after the client's FIN (from the capture), and the client's states",
    columns: ['server closes', "server's segments up to its FIN", 'one segment with ACK and FIN reached the client', 'client between', 'client after'],
    rows: CASES.map((c) => {
      const x = ev.cases[c];
      return [c === 'at-once' ? 'on reading EOF (bare ACKs dropped)' : `once FIN-WAIT-2 was seen, ${ev.pause} ms or more after EOF`, x?.replies?.map((f) => `[${f}]`).join(' ') ?? 'not captured', x?.combined === undefined ? '?' : x.combined ? 'yes' : `no${x.separateAckMs !== undefined ? ` (FIN ${x.separateAckMs} ms after the ACK)` : ''}`, x?.between ?? '?', x?.final ?? '?'];
    }),
  }],
});
