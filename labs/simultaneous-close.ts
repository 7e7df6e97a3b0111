// Tests: what really produces CLOSING (article 001 says: both sides closing at once). Closes issued in the
// same instant on loopback are compared with closes far apart whose first FIN is lost, and CLOSING is held.
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { A001 } from '../harness/lab/articles.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { describeEnd, endsOf, stateIn, waitForEnd } from '../harness/lab/endpoints.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { Verdict } from '../harness/evidence/records.ts';
import { connect, listen, openPair } from '../harness/kernel/sockets.ts';

const HOST = '127.0.0.1';
const SETTLED = new Set(['TIME-WAIT', 'absent']);

export default defineLab({
  name: 'simultaneous-close',
  title: 'CLOSING: what produces it, and is a simultaneous close needed?',
  description:
    'CLOSING is the state of a socket that has sent its FIN and then receives the peer\'s FIN before the ACK of its ' +
    'own. First, both ends of several connections call close() in the same instant (same event-loop turn) and the ' +
    'end states are read: a crossing of the two FINs leaves both ends in TIME-WAIT, an ordinary close leaves only ' +
    'one. Then the client closes while its FIN is dropped by an nft rule and the server closes a configurable time ' +
    'later: the client is held in CLOSING and ss shows it; lifting the rule lets both ends finish in TIME-WAIT. ' +
    'Verdict on the simultaneous-close claim: confirmed if every same-instant close crossed its FINs, partly if ' +
    'only some did, or if none did but a lost FIN produced CLOSING with the closes far apart (the mechanism, ' +
    'both FINs unacknowledged at once, holds; the timing of close() is not what decides it), refuted if none did ' +
    'and CLOSING was not produced at all.',
  claims: [
    {
      id: 'closing-simultaneous',
      source: A001,
      statement: 'CLOSING appears when both sides close the socket at almost the same moment, so that both send a FIN at once.',
    },
    {
      id: 'closing-meaning',
      source: A001,
      statement: 'CLOSING means the socket sent its FIN and, instead of the ACK of that FIN, received the peer\'s FIN.',
    },
  ],
  options: {
    trials: { type: 'number', min: 1, max: 200, default: 10, describe: 'connections whose two ends close in the same instant' },
    gap: { type: 'number', min: 0, max: 5000, default: 300, describe: 'ms between the client\'s close (FIN lost) and the server\'s close' },
    port: { type: 'number', min: 1024, max: 60000, default: 9000, describe: 'server port (and the next one)' },
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx: LabContext) {
    const trials = ctx.options.trials as number;
    const gap = ctx.options.gap as number;
    const P = ctx.options.port as number;
    const faults = await Faults.open(ctx);

    // --- closes in the same instant -------------------------------------------------------------------
    ctx.step(`${trials} connection(s) on :${P}: client and server call close() in the same event-loop turn`);
    const l1 = await listen({ host: HOST, port: P, allowHalfOpen: true });
    ctx.defer(() => l1.close());
    const pairs: { client: net.Socket; server: net.Socket; ends: ReturnType<typeof endsOf> }[] = [];
    for (let i = 0; i < trials; i++) {
      const client = await connect(P, HOST, { allowHalfOpen: true });
      const server = await l1.nextConnection();
      pairs.push({ client, server, ends: endsOf(client.localPort!, P) });
    }
    for (const p of pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    const sameSnap = await ctx.waitSs(
      'every same-instant close to settle (TIME-WAIT or gone)',
      (read) => pairs.every((p) => SETTLED.has(stateIn(read, p.ends.client)) && SETTLED.has(stateIn(read, p.ends.server))),
      { timeoutMs: 5000, label: 'same-instant closes settled', focus: { port: P } },
    );
    const outcomes = pairs.map((p) => `${stateIn(sameSnap, p.ends.client)} / ${stateIn(sameSnap, p.ends.server)}`);
    const crossed = pairs.filter((p) => stateIn(sameSnap, p.ends.client) === 'TIME-WAIT' && stateIn(sameSnap, p.ends.server) === 'TIME-WAIT').length;
    const tally = new Map<string, number>();
    for (const o of outcomes) tally.set(o, (tally.get(o) ?? 0) + 1);
    ctx.event('tally', `same-instant closes, end states (client / server): ${[...tally].map(([k, v]) => `${k} x${v}`).join(', ')}; FINs crossed (both TIME-WAIT): ${crossed}/${trials}`, { crossed, trials, tally: Object.fromEntries(tally) });

    // --- first FIN lost, closes far apart -------------------------------------------------------------
    const P2 = P + 1;
    ctx.step(`on :${P2}: drop the client's FINs, client closes, server closes ${gap} ms later`);
    const { client, server, clientPort } = await openPair((fn) => ctx.defer(fn), P2, { host: HOST });
    const e = endsOf(clientPort, P2);
    const finFault = await faults.drop({ kind: 'fin', toPort: P2 }, "the client's FIN is lost");
    client.destroy();
    const firstSnap = await waitForEnd(ctx, e.client, 'FIN-WAIT-1', { label: 'client FIN lost: FIN-WAIT-1 / ESTAB' });
    await sleep(gap); // the experiment's variable: how far apart the two close() calls are
    const serverClosedAt = Date.now();
    server.destroy();
    await waitForEnd(ctx, e.server, 'FIN-WAIT-2');
    const closingSnap = await waitForEnd(ctx, e.client, 'CLOSING', { label: 'CLOSING' });
    const closingAfterMs = Date.now() - serverClosedAt;
    ctx.step('lift the rule: the client retransmits its FIN');
    const finsDropped = await faults.lift(finFault);
    await waitForEnd(ctx, e.server, 'TIME-WAIT', { timeoutMs: 4000 });
    const endSnap = await waitForEnd(ctx, e.client, 'TIME-WAIT', { label: 'both TIME-WAIT', timeoutMs: 4000 });

    ctx.table({
      title: 'How the two ends finished',
      columns: ['scenario', 'client', 'server', 'what it means'],
      rows: [
        ...[...tally].map(([k, v]) => {
          const [c, s] = k.split(' / ');
          return [`close() on both ends in the same instant (${v} of ${trials})`, c, s, c === 'TIME-WAIT' && s === 'TIME-WAIT' ? 'FINs crossed (both went through CLOSING)' : 'ordinary close: one FIN arrived before the other was sent'];
        }),
        [`client FIN lost, server closes ${gap} ms later`, describeEnd(closingSnap, e.client), describeEnd(closingSnap, e.server), 'client held in CLOSING'],
        ['... rule lifted', stateIn(endSnap, e.client), stateIn(endSnap, e.server), 'both ends TIME-WAIT'],
      ],
    });

    // --- verdicts -------------------------------------------------------------------------------------------
    const held = stateIn(closingSnap, e.client) === 'CLOSING';
    const serverThen = stateIn(closingSnap, e.server);
    const bothTw = stateIn(endSnap, e.client) === 'TIME-WAIT' && stateIn(endSnap, e.server) === 'TIME-WAIT';
    // Both ends in TIME-WAIT means each sent its FIN before the other's arrived, so each got the peer's FIN while
    // its own was unacknowledged: both passed through CLOSING. An end that finished absent took the LAST-ACK path.
    const ends = `end states client / server: ${[...tally].map(([k, v]) => `${k} x${v}`).join(', ')}`;
    const sameInstant = `Closing both ends in the same event-loop turn crossed the FINs (both ends TIME-WAIT, i.e. both went through CLOSING) in ${crossed} of ${trials} connections on loopback (${ends})`;
    const ordinary = crossed < trials ? `; in ${crossed === 0 ? 'every one' : 'the others'} the first close() had already delivered its FIN over loopback before the second close() ran, so the peer was in CLOSE-WAIT (then LAST-ACK), not FIN-WAIT-1` : '';
    const lost = held && finsDropped > 0;
    const lostText = lost
      ? `With the client's FIN lost (${finsDropped} FIN segment(s) dropped) and the server closing ${gap} ms later, the client was "${describeEnd(closingSnap, e.client)}" ${closingAfterMs} ms after the server's close: CLOSING without any simultaneous close.`
      : `The lost-FIN connection did not show CLOSING (client ${stateIn(closingSnap, e.client)}, ${finsDropped} FIN(s) dropped).`;
    const simultaneous: Verdict = crossed === trials ? 'confirmed' : crossed > 0 || lost ? 'partly' : 'refuted';
    const why: Record<Verdict, string> = {
      confirmed: 'Every same-instant close produced CLOSING here.' + (lost ? ' It is not the only way, though: what matters is that both FINs are unacknowledged at once.' : ''),
      partly:
        crossed > 0
          ? 'A same-instant close produces CLOSING only when both FINs are in flight together; the timing of the close() calls alone does not decide it.'
          : 'The mechanism the article names (both sides have sent a FIN that is not yet acknowledged) is what produced CLOSING, but closing at the same moment did not produce it, and closes far apart did.',
      refuted: 'Closing at the same moment never produced CLOSING here, and nothing else in this run did either.',
      inconclusive: '',
    };
    ctx.verdict('closing-simultaneous', simultaneous, `${why[simultaneous]} ${sameInstant}${ordinary}. ${lostText}`);

    if (!lost) {
      ctx.verdict('closing-meaning', 'inconclusive', `CLOSING was not held with the client's FIN dropped: client ${stateIn(closingSnap, e.client)}, server ${serverThen} (FINs dropped ${finsDropped}); at the end ${stateIn(endSnap, e.client)} / ${stateIn(endSnap, e.server)}`);
    } else if (serverThen === 'FIN-WAIT-2' && stateIn(firstSnap, e.server) === 'ESTAB' && bothTw) {
      ctx.verdict(
        'closing-meaning',
        'confirmed',
        `The client's FIN never reached the server (${finsDropped} dropped; the server was still ESTAB), so nothing could acknowledge it; the server's FIN did arrive, and the client moved to CLOSING while the server, whose FIN the client ACKed, was in ${serverThen}. When the retransmitted FIN got through, both ends went to TIME-WAIT (${describeEnd(endSnap, e.client)}; ${describeEnd(endSnap, e.server)}).`,
      );
    } else {
      ctx.verdict('closing-meaning', 'partly', `The client was in CLOSING with its FIN unacknowledged, but the rest did not follow the article's account: server ${stateIn(firstSnap, e.server)} when the client's FIN was lost, ${serverThen} while the client was CLOSING; at the end ${stateIn(endSnap, e.client)} / ${stateIn(endSnap, e.server)}.`);
    }
  },
});
