// Put a copy of a captured segment back on the wire (a raw socket in the lab's namespace) and read, from the same
// capture, what answered it: how a lab shows what the kernel does with an old duplicate or a stray segment.
import type { Segment } from '../evidence/packets-decode.ts';
import { sendSegment } from '../kernel/raw.ts';
import { until } from '../kernel/wait.ts';
import type { LabContext } from './context.ts';

/** A segment as a judge needs it: flags and numbers. */
export interface SegmentSeen {
  flags: string;
  seq: number;
  ack: number;
}

export interface Replayed {
  /** the first segment the receiver of the copy sent back after it */
  answer?: SegmentSeen;
  /** the first bare segment the copy's sender sent after that (e.g. its RST to an answer it cannot place) */
  peer?: SegmentSeen;
}

/**
 * Send an exact copy of `seg` (same addresses, ports, numbers, window and timestamps; `payload` for its bytes,
 * which the capture keeps but the decoded segment does not) and wait, up to `timeoutMs`, for the answer to it and
 * the sender's reply to that answer (or an RST answer) in the capture. Recorded as an 'inject' event.
 */
export async function replay(ctx: LabContext, seg: Segment, what: string, o: { payload?: Buffer; timeoutMs?: number } = {}): Promise<Replayed> {
  const at = ctx.elapsedMs();
  ctx.event('inject', `${what}: a copy of ${seg.src}:${seg.sport} > ${seg.dst}:${seg.dport} [${seg.flags}] seq ${seg.seq} ack ${seg.ack} (${seg.len} bytes) sent raw`, { seq: seg.seq, ack: seg.ack });
  sendSegment({ src: seg.src, dst: seg.dst, sport: seg.sport, dport: seg.dport, seq: seg.seq, ack: seg.ack, flags: seg.flags, win: seg.win, ts: seg.options?.ts, payload: o.payload });
  const back = (x: Segment) => x.sport === seg.dport && x.dport === seg.sport;
  const forth = (x: Segment) => x.sport === seg.sport && x.dport === seg.dport && x.len === 0;
  const seen = (xs: (Segment & { atMs: number })[] = []) => ({ answer: xs.find((x) => x.atMs >= at && back(x)), peer: xs.find((x) => x.atMs >= at && forth(x)) });
  const pick = (x?: Segment): SegmentSeen | undefined => (x ? { flags: x.flags, seq: x.seq, ack: x.ack } : undefined);
  const got = await until(async () => {
    const now = seen(await ctx.segments());
    return now.answer && (now.peer || now.answer.flags.includes('R')) ? { done: true, value: now } : { done: false, last: now };
  }, { what: `the answers to the ${what}`, timeoutMs: o.timeoutMs ?? 1000, intervalMs: 20, signal: ctx.signal }).catch(async () => seen(await ctx.segments()));
  return { answer: pick(got.answer), peer: pick(got.peer) };
}
