// Tests: the four-way close of article 001 step by step — FIN-WAIT-1 (ACK of the FIN dropped), FIN-WAIT-2
// (peer half-open, still able to send), CLOSE-WAIT, LAST-ACK (final ACK dropped), TIME-WAIT — with the client
// or the server closing first (active/passive is not client/server), and FIN-WAIT-1 straight to TIME-WAIT
// when the peer's FIN carries the ACK.
import net from 'node:net';
import { A001 } from '../harness/lab/articles.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { describeEnd, stateIn, waitForEnd, waitForGone, type End } from '../harness/lab/endpoints.ts';
import { WaitTimeout } from '../harness/errors.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { openPair } from '../harness/kernel/sockets.ts';
import type { SsState } from '../harness/evidence/ss.ts';
import { until } from '../harness/kernel/wait.ts';

const HOST = '127.0.0.1';
const CLOSERS = ['client', 'server'] as const;
type Closer = (typeof CLOSERS)[number];

/** A connected pair whose ends never answer a FIN on their own (allowHalfOpen on both, openPair's default). */
const pair = (ctx: LabContext, port: number) => openPair((fn) => ctx.defer(fn), port, { host: HOST });

interface Sequence {
  closer: Closer;
  port: number;
  closerEnd: End;
  passiveEnd: End;
  snaps: Record<'established' | 'finWait1' | 'finWait2' | 'lastAck' | 'closed', SnapshotRecord>;
  finAcksDropped: number;
  lastAcksDropped: number;
  /** bytes the passive side sent while the closer sat in FIN-WAIT-2, and what the closer received */
  halfOpenSent: string;
  halfOpenReceived: string;
}

function readAll(s: net.Socket): () => string {
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

/** Wait (up to 2 s) until `received()` equals `expected`; whatever arrived by then is the evidence either way. */
async function awaitData(ctx: LabContext, received: () => string, expected: string, what: string): Promise<void> {
  await until(async () => (received() === expected ? { done: true, value: true } : { done: false, last: received() }), {
    what,
    timeoutMs: 2000,
    signal: ctx.signal,
    describe: (last) => `${last?.length ?? 0} of ${expected.length} bytes`,
  }).catch((e: unknown) => {
    if (!(e instanceof WaitTimeout)) throw e;
  });
}

/** Drive one connection through the whole close with `closer` closing first; snapshot at every step. */
async function closeSequence(ctx: LabContext, faults: Faults, closer: Closer, port: number): Promise<Sequence> {
  const { client, server, clientPort } = await pair(ctx, port);
  const [active, passive] = closer === 'client' ? [client, server] : [server, client];
  const cEnd: End = { name: 'client', localPort: clientPort, peerPort: port };
  const sEnd: End = { name: 'server', localPort: port, peerPort: clientPort };
  const closerEnd = { ...(closer === 'client' ? cEnd : sEnd), name: `${closer} (active closer)` };
  const passiveEnd = { ...(closer === 'client' ? sEnd : cEnd), name: `${closer === 'client' ? 'server' : 'client'} (passive)` };
  const tag = `${closer} closes`;
  const received = readAll(active);

  ctx.step(`${tag}: ESTABLISHED :${clientPort} <-> :${port}`);
  const established = await ctx.snapshot(`${tag}: ESTABLISHED`, { focus: { port: clientPort } });

  ctx.step(`${tag}: drop the passive side's ACKs, then the ${closer} calls shutdown(SHUT_WR) (sends FIN)`);
  const ackOfFin = await faults.drop({ kind: 'fin-ack', fromPort: passiveEnd.localPort }, 'the ACK of the FIN never arrives');
  active.end();
  await waitForEnd(ctx, passiveEnd, 'CLOSE-WAIT');
  const finWait1 = await waitForEnd(ctx, closerEnd, 'FIN-WAIT-1', { label: `${tag}: FIN-WAIT-1 / CLOSE-WAIT` });

  ctx.step(`${tag}: lift the rule; the retransmitted FIN is ACKed`);
  const finAcksDropped = await faults.lift(ackOfFin);
  const finWait2 = await waitForEnd(ctx, closerEnd, 'FIN-WAIT-2', { label: `${tag}: FIN-WAIT-2 / CLOSE-WAIT` });
  const halfOpenSent = `late data from the passive ${passiveEnd.name.split(' ')[0]}`;
  passive.write(halfOpenSent);
  await awaitData(ctx, received, halfOpenSent, `the passive side's late data at the closer in FIN-WAIT-2`);
  ctx.event('half-open', `in FIN-WAIT-2 the closer received ${received().length} of ${halfOpenSent.length} bytes the passive side wrote after the FIN`, { sent: halfOpenSent.length, received: received().length });

  ctx.step(`${tag}: drop the closer's ACKs, then the passive side closes (sends its FIN)`);
  const lastAck = await faults.drop({ kind: 'ack', fromPort: closerEnd.localPort }, 'the final ACK never arrives');
  passive.destroy();
  await waitForEnd(ctx, closerEnd, 'TIME-WAIT');
  const lastAckSnap = await waitForEnd(ctx, passiveEnd, 'LAST-ACK', { label: `${tag}: TIME-WAIT / LAST-ACK` });

  ctx.step(`${tag}: lift the rule; the retransmitted FIN is ACKed from TIME-WAIT and the passive side closes`);
  const lastAcksDropped = await faults.lift(lastAck);
  const closed = await waitForGone(ctx, passiveEnd, { timeoutMs: 4000, label: `${tag}: closed` });
  return { closer, port, closerEnd, passiveEnd, snaps: { established, finWait1, finWait2, lastAck: lastAckSnap, closed }, finAcksDropped, lastAcksDropped, halfOpenSent, halfOpenReceived: received() };
}

/** FIN-WAIT-1 → TIME-WAIT with no FIN-WAIT-2: hold FIN-WAIT-1, then let the peer's FIN (carrying the ACK) through. */
async function shortcut(ctx: LabContext, faults: Faults, port: number) {
  const { client, server, clientPort } = await pair(ctx, port);
  const cEnd: End = { name: 'client (closer)', localPort: clientPort, peerPort: port };
  const sEnd: End = { name: 'server', localPort: port, peerPort: clientPort };
  ctx.step(`FIN+ACK: drop the server's pure ACKs, the client closes, then the server closes too`);
  const pureAcks = await faults.drop({ kind: 'ack', fromPort: port }, 'only an ACK riding on a FIN can get through');
  const fins = await faults.count({ kind: 'fin', fromPort: port }, 'count the server\'s FINs');
  client.end();
  await waitForEnd(ctx, sEnd, 'CLOSE-WAIT');
  const before = await waitForEnd(ctx, cEnd, 'FIN-WAIT-1', { label: 'FIN+ACK: FIN-WAIT-1 / CLOSE-WAIT' });
  server.destroy();
  const after = await waitForEnd(ctx, cEnd, 'TIME-WAIT', { label: 'FIN+ACK: after the server\'s FIN' });
  const dropped = await faults.lift(pureAcks);
  const finCount = await faults.lift(fins);
  return { cEnd, sEnd, before, after, dropped, finCount };
}

export default defineLab({
  name: 'active-close',
  title: 'The four-way close step by step: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, TIME-WAIT',
  description:
    'A connection is closed with an nft rule holding each transient state long enough for ss: the passive ' +
    "side's ACK of the first FIN is dropped (FIN-WAIT-1), then let through (FIN-WAIT-2, while the passive side " +
    'sits in CLOSE-WAIT and can still send), then the closer\'s final ACK is dropped (LAST-ACK on the passive ' +
    'side, TIME-WAIT on the closer). It is run with the client closing first and with the server closing first. ' +
    "The closer half-closes with shutdown(SHUT_WR) (Node's end()). A last connection shows FIN-WAIT-1 going " +
    'straight to TIME-WAIT when the peer\'s FIN carries the ACK.',
  claims: [
    { id: 'fin-wait-1', source: A001, statement: 'A socket that closes first sends a FIN and is in FIN_WAIT_1 until that FIN is acknowledged, then in FIN_WAIT_2; FIN_WAIT_1 is rarely seen because the peer normally ACKs at once.' },
    { id: 'fin-wait-2-half-open', source: A001, statement: 'FIN_WAIT_2 is a half-closed connection: the closer is waiting for the peer\'s FIN while the peer may still send it data.' },
    { id: 'close-wait', source: A001, statement: 'The side that receives the FIN acknowledges it and stays in CLOSE_WAIT until its application closes the socket.' },
    { id: 'last-ack', source: A001, statement: 'The passive closer, after sending its own FIN, waits in LAST_ACK for the final ACK and is then CLOSED.' },
    { id: 'time-wait-on-closer', source: A001, statement: 'The side that closed first ends in TIME_WAIT after acknowledging the peer\'s FIN.' },
    { id: 'active-not-client', source: A001, statement: 'Active and passive close do not map to client and server: whichever side closes first is the active closer.' },
    { id: 'fin-wait-1-to-time-wait', source: A001, statement: 'A socket in FIN_WAIT_1 that receives a segment with both FIN and ACK goes straight to TIME_WAIT without passing through FIN_WAIT_2.' },
  ],
  options: {
    closer: { type: 'string', array: true, choices: CLOSERS, default: CLOSERS, describe: 'which side closes first (both by default, one after the other)' },
    port: { type: 'number', min: 1024, max: 60000, default: 9000, describe: 'first server port (one per sequence)' },
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx: LabContext) {
    const closers = ctx.options.closer as Closer[];
    const base = ctx.options.port as number;
    const faults = await Faults.open(ctx);
    const seqs: Sequence[] = [];
    for (const [i, closer] of closers.entries()) seqs.push(await closeSequence(ctx, faults, closer, base + i));
    const sc = await shortcut(ctx, faults, base + closers.length);

    const row = (s: Sequence, key: keyof Sequence['snaps']) => `${stateIn(s.snaps[key], s.closerEnd)} / ${stateIn(s.snaps[key], s.passiveEnd)}`;
    ctx.table({
      title: 'State of (active closer / passive side) at each step',
      columns: ['step', ...seqs.map((s) => `${s.closer} closes first`)],
      rows: [
        ['established', ...seqs.map((s) => row(s, 'established'))],
        ['closer sent FIN, ACK dropped', ...seqs.map((s) => row(s, 'finWait1'))],
        ['ACK let through', ...seqs.map((s) => row(s, 'finWait2'))],
        ['passive sent FIN, final ACK dropped', ...seqs.map((s) => row(s, 'lastAck'))],
        ['final ACK let through', ...seqs.map((s) => row(s, 'closed'))],
      ],
      note: 'absent = ss no longer lists the socket (CLOSED).',
    });

    // --- verdicts, from the snapshots ------------------------------------------------------------------
    const all = (pred: (s: Sequence) => boolean) => seqs.length > 0 && seqs.every(pred);
    const is = (s: Sequence, key: keyof Sequence['snaps'], closer: SsState | 'absent', passive: SsState | 'absent') =>
      stateIn(s.snaps[key], s.closerEnd) === closer && stateIn(s.snaps[key], s.passiveEnd) === passive;
    const list = (key: keyof Sequence['snaps'], which: 'closerEnd' | 'passiveEnd') => seqs.map((s) => `${s.closer} closes: ${describeEnd(s.snaps[key], s[which])}`).join('; ');

    if (all((s) => is(s, 'finWait1', 'FIN-WAIT-1', 'CLOSE-WAIT') && s.finAcksDropped > 0 && stateIn(s.snaps.finWait2, s.closerEnd) === 'FIN-WAIT-2')) {
      ctx.verdict('fin-wait-1', 'confirmed', `While the peer's ACKs were dropped the closer stayed in FIN-WAIT-1 with its retransmission timer on (${list('finWait1', 'closerEnd')}; ACKs dropped: ${seqs.map((s) => s.finAcksDropped).join(', ')}); once an ACK got through it moved to FIN-WAIT-2. Without the rule the peer's kernel ACKs the FIN immediately, so FIN-WAIT-1 lasts well under a millisecond on loopback.`);
    } else {
      ctx.verdict('fin-wait-1', 'inconclusive', `closer / passive while the ACK was dropped: ${seqs.map((s) => row(s, 'finWait1')).join('; ')}`);
    }

    const delivered = seqs.map((s) => `${s.halfOpenReceived.length}/${s.halfOpenSent.length}`).join(', ');
    if (all((s) => is(s, 'finWait2', 'FIN-WAIT-2', 'CLOSE-WAIT') && s.halfOpenReceived === s.halfOpenSent)) {
      ctx.verdict('fin-wait-2-half-open', 'confirmed', `After its FIN was ACKed the closer sat in FIN-WAIT-2 while the peer was in CLOSE-WAIT (${list('finWait2', 'closerEnd')}), and data the peer wrote then (${seqs[0].halfOpenSent.length} bytes) was delivered to the closer: the connection was half-closed, not closed.`);
    } else if (all((s) => is(s, 'finWait2', 'FIN-WAIT-2', 'CLOSE-WAIT'))) {
      ctx.verdict('fin-wait-2-half-open', 'refuted', `The closer sat in FIN-WAIT-2 with the peer in CLOSE-WAIT (${list('finWait2', 'closerEnd')}), but the data the peer wrote then did not all arrive within 2 s (bytes received / sent: ${delivered}).`);
    } else {
      ctx.verdict('fin-wait-2-half-open', 'inconclusive', `closer / passive after the ACK: ${seqs.map((s) => row(s, 'finWait2')).join('; ')}; half-open data received: ${delivered}`);
    }

    if (all((s) => stateIn(s.snaps.finWait1, s.passiveEnd) === 'CLOSE-WAIT' && stateIn(s.snaps.finWait2, s.passiveEnd) === 'CLOSE-WAIT' && stateIn(s.snaps.lastAck, s.passiveEnd) === 'LAST-ACK')) {
      ctx.verdict('close-wait', 'confirmed', `The side that received the FIN was in CLOSE-WAIT in both snapshots taken before its application closed (${list('finWait2', 'passiveEnd')}) and left it only when it closed (then LAST-ACK).`);
    } else {
      ctx.verdict('close-wait', 'inconclusive', `passive side: ${seqs.map((s) => `${stateIn(s.snaps.finWait1, s.passiveEnd)} -> ${stateIn(s.snaps.finWait2, s.passiveEnd)} -> ${stateIn(s.snaps.lastAck, s.passiveEnd)}`).join('; ')}`);
    }

    if (all((s) => stateIn(s.snaps.lastAck, s.passiveEnd) === 'LAST-ACK' && s.lastAcksDropped > 0 && stateIn(s.snaps.closed, s.passiveEnd) === 'absent')) {
      ctx.verdict('last-ack', 'confirmed', `With the final ACK dropped the passive side waited in LAST-ACK retransmitting its FIN (${list('lastAck', 'passiveEnd')}); once the closer's ACK got through, ss no longer listed it (CLOSED).`);
    } else {
      ctx.verdict('last-ack', 'inconclusive', `passive side with final ACK dropped / after: ${seqs.map((s) => `${stateIn(s.snaps.lastAck, s.passiveEnd)} / ${stateIn(s.snaps.closed, s.passiveEnd)}`).join('; ')}`);
    }

    // the peer's FIN reached the closer only if the passive side got to LAST-ACK; without that, nothing to judge
    const ends = seqs.map((s) => `${s.closer} closes: ${row(s, 'lastAck')} after the peer's FIN, ${row(s, 'closed')} at the end`).join('; ');
    const closerTw = (s: Sequence) => stateIn(s.snaps.lastAck, s.closerEnd) === 'TIME-WAIT' && stateIn(s.snaps.closed, s.closerEnd) === 'TIME-WAIT';
    if (!all((s) => stateIn(s.snaps.lastAck, s.passiveEnd) === 'LAST-ACK')) {
      ctx.verdict('time-wait-on-closer', 'inconclusive', `the passive side did not reach LAST-ACK in every sequence, so the closer's answer to its FIN was not seen (closer / passive: ${ends})`);
    } else if (!all(closerTw)) {
      ctx.verdict('time-wait-on-closer', 'refuted', `After the peer's FIN the side that closed first was not in TIME-WAIT in every sequence (closer / passive: ${ends}).`);
    } else if (seqs.some((s) => stateIn(s.snaps.closed, s.passiveEnd) === 'TIME-WAIT')) {
      ctx.verdict('time-wait-on-closer', 'partly', `The side that closed first was in TIME-WAIT after the peer's FIN, but so was a passive side (closer / passive: ${ends}).`);
    } else {
      ctx.verdict('time-wait-on-closer', 'confirmed', `In every sequence the side that closed first was in TIME-WAIT after the peer's FIN (${list('closed', 'closerEnd')}), and the passive side was not (${seqs.map((s) => stateIn(s.snaps.closed, s.passiveEnd)).join(', ')} at the end).`);
    }

    const serverSeq = seqs.find((s) => s.closer === 'server');
    const clientSeq = seqs.find((s) => s.closer === 'client');
    const twOn = (s: Sequence) => stateIn(s.snaps.closed, s.closerEnd) === 'TIME-WAIT' && stateIn(s.snaps.lastAck, s.passiveEnd) === 'LAST-ACK';
    if (serverSeq && twOn(serverSeq)) {
      const both = clientSeq && twOn(clientSeq);
      ctx.verdict('active-not-client', 'confirmed', `When the server closed first the server's socket (:${serverSeq.port}) went FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT and the client's went CLOSE-WAIT -> LAST-ACK${both ? `; when the client closed first the roles swapped (TIME-WAIT on the client port :${clientSeq.closerEnd.localPort})` : ''}. The roles follow who calls close first, not who connected.`);
    } else {
      ctx.verdict('active-not-client', 'inconclusive', serverSeq ? `server-first sequence ended with closer ${stateIn(serverSeq.snaps.closed, serverSeq.closerEnd)}, passive ${stateIn(serverSeq.snaps.lastAck, serverSeq.passiveEnd)}` : 'needs --closer server');
    }

    const scBefore = stateIn(sc.before, sc.cEnd);
    const scAfter = stateIn(sc.after, sc.cEnd);
    if (scBefore === 'FIN-WAIT-1' && scAfter === 'TIME-WAIT' && sc.dropped > 0 && sc.finCount >= 1) {
      ctx.verdict('fin-wait-1-to-time-wait', 'confirmed', `With every pure ACK from the server dropped (${sc.dropped}), the only acknowledgement of the client's FIN that could arrive rode on the server's FIN (${sc.finCount} FIN segment(s) counted). The client went from "${describeEnd(sc.before, sc.cEnd)}" to "${describeEnd(sc.after, sc.cEnd)}": FIN-WAIT-2 was skipped, as the ACK and the FIN were processed from one segment.`);
    } else {
      ctx.verdict('fin-wait-1-to-time-wait', 'inconclusive', `client before/after the server's FIN: ${scBefore} / ${scAfter}; pure ACKs dropped ${sc.dropped}; FINs counted ${sc.finCount}`);
    }
  },
});
