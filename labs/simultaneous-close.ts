// Tests: what really produces CLOSING (article 001 says: both sides closing at once). Closes issued in the
// same instant on loopback are compared with closes far apart whose first FIN is lost, and CLOSING is held.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabContext } from '../harness/context.ts';
import { describeEnd, endsOf, stateIn, waitForEnd } from '../harness/endpoints.ts';
import { Faults, NFT_INSTALL } from '../harness/faults.ts';
import { defineLab } from '../harness/lab.ts';
import { readSockets } from '../harness/host.ts';
import { connect, listen } from '../harness/sockets.ts';
import type { SockRecord } from '../harness/ss.ts';
import { until } from '../harness/wait.ts';

const A001 = '001_409283d7d09adb0c.txt';
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
    'later: the client is held in CLOSING and ss shows it; lifting the rule lets both ends finish in TIME-WAIT.',
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
    const pairs: { client: import('node:net').Socket; server: import('node:net').Socket; ends: ReturnType<typeof endsOf> }[] = [];
    for (let i = 0; i < trials; i++) {
      const client = await connect(P, HOST, { allowHalfOpen: true });
      const server = await l1.nextConnection();
      pairs.push({ client, server, ends: endsOf(client.localPort!, P) });
    }
    for (const p of pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    await until<SockRecord[], SockRecord[]>(
      async () => {
        const all = await readSockets(ctx.host);
        const done = pairs.every((p) => SETTLED.has(stateIn(all, p.ends.client)) && SETTLED.has(stateIn(all, p.ends.server)));
        return done ? { done: true, value: all } : { done: false, last: all };
      },
      { what: 'every same-instant close to settle (TIME-WAIT or gone)', timeoutMs: 5000, signal: ctx.signal },
    );
    const sameSnap = await ctx.snapshot('same-instant closes settled', { focus: { port: P } });
    const outcomes = pairs.map((p) => `${stateIn(sameSnap, p.ends.client)} / ${stateIn(sameSnap, p.ends.server)}`);
    const crossed = pairs.filter((p) => stateIn(sameSnap, p.ends.client) === 'TIME-WAIT' && stateIn(sameSnap, p.ends.server) === 'TIME-WAIT').length;
    const tally = new Map<string, number>();
    for (const o of outcomes) tally.set(o, (tally.get(o) ?? 0) + 1);
    ctx.event('tally', `same-instant closes, end states (client / server): ${[...tally].map(([k, v]) => `${k} x${v}`).join(', ')}; FINs crossed (both TIME-WAIT): ${crossed}/${trials}`, { crossed, trials, tally: Object.fromEntries(tally) });

    // --- first FIN lost, closes far apart -------------------------------------------------------------
    const P2 = P + 1;
    ctx.step(`on :${P2}: drop the client's FINs, client closes, server closes ${gap} ms later`);
    const l2 = await listen({ host: HOST, port: P2, allowHalfOpen: true });
    ctx.defer(() => l2.close());
    const client = await connect(P2, HOST, { allowHalfOpen: true });
    const server = await l2.nextConnection();
    ctx.defer(() => client.destroy());
    ctx.defer(() => server.destroy());
    const e = endsOf(client.localPort!, P2);
    const finFault = await faults.drop({ kind: 'fin', toPort: P2 }, "the client's FIN is lost");
    client.destroy();
    await waitForEnd(ctx, e.client, 'FIN-WAIT-1', { label: 'client FIN lost: FIN-WAIT-1 / ESTAB' });
    const firstSnap = ctx.snapshots.at(-1)!;
    await sleep(gap); // the experiment's variable: how far apart the two close() calls are
    const serverClosedAt = Date.now();
    server.destroy();
    await waitForEnd(ctx, e.server, 'FIN-WAIT-2');
    await waitForEnd(ctx, e.client, 'CLOSING', { label: 'CLOSING' });
    const closingSnap = ctx.snapshots.at(-1)!;
    const closingAfterMs = Date.now() - serverClosedAt;
    ctx.step('lift the rule: the client retransmits its FIN');
    const finsDropped = await faults.lift(finFault);
    await waitForEnd(ctx, e.server, 'TIME-WAIT', { timeoutMs: 4000 });
    await waitForEnd(ctx, e.client, 'TIME-WAIT', { label: 'both TIME-WAIT', timeoutMs: 4000 });
    const endSnap = ctx.snapshots.at(-1)!;

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
    if (held && finsDropped > 0) {
      ctx.verdict(
        'closing-simultaneous',
        'partly',
        `CLOSING comes from FINs that cross, not from a simultaneous close. With the client's FIN lost (${finsDropped} FIN segment(s) dropped) and the server closing ${gap} ms later, the client was "${describeEnd(closingSnap, e.client)}" (${closingAfterMs} ms after the server's close). ` +
          `Closing both ends in the same instant produced crossed FINs in ${crossed} of ${trials} connections on loopback (end states client / server: ${[...tally].map(([k, v]) => `${k} x${v}`).join(', ')}): ` +
          `${crossed < trials ? 'an end that finishes absent took the LAST-ACK path, i.e. the first close() had already delivered its FIN over loopback before the second close() ran, so the peer was in CLOSE-WAIT, not FIN-WAIT-1.' : 'here that did make the FINs cross.'} ` +
          'So a simultaneous close produces CLOSING only if both FINs are in flight together (a real network\'s delay makes that possible); a lost or delayed FIN does it whatever the timing.',
      );
    } else {
      ctx.verdict('closing-simultaneous', 'inconclusive', `client with its FIN dropped after the server closed: ${stateIn(closingSnap, e.client)} (FINs dropped ${finsDropped}); same-instant crossings ${crossed}/${trials}`);
    }
    if (held && finsDropped > 0 && serverThen === 'FIN-WAIT-2' && stateIn(firstSnap, e.server) === 'ESTAB' && bothTw) {
      ctx.verdict(
        'closing-meaning',
        'confirmed',
        `The client's FIN never reached the server (${finsDropped} dropped; the server was still ESTAB), so nothing could acknowledge it; the server's FIN did arrive, and the client moved to CLOSING while the server, whose FIN the client ACKed, was in ${serverThen}. When the retransmitted FIN got through, both ends went to TIME-WAIT (${describeEnd(endSnap, e.client)}; ${describeEnd(endSnap, e.server)}).`,
      );
    } else {
      ctx.verdict('closing-meaning', 'inconclusive', `client ${stateIn(closingSnap, e.client)}, server ${serverThen} (before: server ${stateIn(firstSnap, e.server)}); at the end ${stateIn(endSnap, e.client)} / ${stateIn(endSnap, e.server)}`);
    }
  },
});
