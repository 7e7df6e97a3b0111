// What produces CLOSING: closing both ends at the same moment, or two FINs unacknowledged at once?
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { A001, Faults, LOOPBACK, NFT_INSTALL, all, check, connect, defineLab, endsOf, int, is, listen, need, pair, stateIn, waitForEnd, yes } from '../harness/index.ts';

const SETTLED = ['TIME-WAIT', 'absent'];

export default defineLab({
  title: 'CLOSING: what produces it, and is a simultaneous close needed?',
  setup:
    "CLOSING is the state of a socket that sent its FIN and then received the peer's FIN before the ACK of its own. " +
    'First both ends of several connections call close() in the same event-loop turn and their end states are read ' +
    '(FINs that crossed leave both ends in TIME-WAIT; an ordinary close leaves one). Then a client closes while an nft ' +
    'rule drops its FIN, and the server closes --gap ms later: the client is held in CLOSING; lifting the rule lets ' +
    'both ends finish.',
  claims: {
    'closing-simultaneous': [A001, 'CLOSING appears when both sides close the socket at almost the same moment, so that both send a FIN at once.'],
    'closing-meaning': [A001, "CLOSING means the socket sent its FIN and, instead of the ACK of that FIN, received the peer's FIN."],
  },
  options: {
    trials: int(1, 200, 10, 'connections whose two ends close in the same instant', 'connections'),
    gap: int(0, 5000, 300, "time between the client's close (FIN lost) and the server's close", 'ms'),
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx, o) {
    const faults = await Faults.open(ctx);
    const port = ctx.port();
    ctx.step(`${o.trials} connection(s): client and server call close() in the same event-loop turn`);
    const l = await listen({ host: LOOPBACK, port, allowHalfOpen: true });
    ctx.defer(() => l.close());
    const pairs: { client: net.Socket; server: net.Socket; ends: ReturnType<typeof endsOf> }[] = [];
    for (let i = 0; i < o.trials; i++) { const client = await connect(port, LOOPBACK, { allowHalfOpen: true }); pairs.push({ client, server: await l.nextConnection(), ends: endsOf(client.localPort!, port) }); }
    for (const p of pairs) { p.client.destroy(); p.server.destroy(); }
    const same = await ctx.waitSs('every same-instant close to settle', (xs) => pairs.every((p) => SETTLED.includes(stateIn(xs, p.ends.client)) && SETTLED.includes(stateIn(xs, p.ends.server))), { timeoutMs: 5000, label: 'same-instant closes settled', focus: { port } });
    const outcomes = pairs.map((p) => `${stateIn(same, p.ends.client)} / ${stateIn(same, p.ends.server)}`);
    ctx.step(`drop the client's FINs; the client closes, the server closes ${o.gap} ms later`);
    const q = await pair(ctx);
    const fin = await faults.drop({ kind: 'fin', toPort: q.serverPort }, "the client's FIN is lost");
    q.client.destroy();
    const lostSnap = await waitForEnd(ctx, q.ends.client, 'FIN-WAIT-1', { label: 'client FIN lost' });
    await sleep(o.gap); // the experiment's variable: how far apart the two close() calls are
    q.server.destroy();
    const closing = await waitForEnd(ctx, q.ends.client, 'CLOSING', { label: 'CLOSING' });
    const finsDropped = await faults.lift(fin);
    const end = await ctx.waitSs('both ends to finish', (xs) => SETTLED.includes(stateIn(xs, q.ends.client)) && SETTLED.includes(stateIn(xs, q.ends.server)), { timeoutMs: 4000, label: 'after the retransmitted FIN' });
    return {
      trials: o.trials, gap: o.gap, outcomes, crossed: outcomes.filter((x) => x === 'TIME-WAIT / TIME-WAIT').length,
      finsDropped, serverWhenLost: stateIn(lostSnap, q.ends.server), clientHeld: stateIn(closing, q.ends.client), serverWhileClosing: stateIn(closing, q.ends.server),
      finally: `${stateIn(end, q.ends.client)} / ${stateIn(end, q.ends.server)}`,
    };
  },
  judge: (ev) => ({
    'closing-simultaneous': all(
      need('every same-instant close was read back', ev.outcomes.length === ev.trials, `${ev.outcomes.length} of ${ev.trials}`),
      check('same-instant closes whose FINs crossed (both ends TIME-WAIT, so both went through CLOSING)', `${ev.crossed} of ${ev.trials}`, `${ev.trials} of ${ev.trials}`, ev.crossed === ev.trials),
      yes(`CLOSING with both FINs unacknowledged at once (client's FIN lost, server closed ${ev.gap} ms later)`, ev.clientHeld === 'CLOSING' && ev.finsDropped > 0),
    ),
    'closing-meaning': all(
      need("the client was held in CLOSING with its FIN dropped", ev.clientHeld === 'CLOSING' && ev.finsDropped > 0, `client ${ev.clientHeld}, ${ev.finsDropped} FIN(s) dropped`),
      is("the server when the client's FIN was lost (its FIN never arrived)", ev.serverWhenLost, 'ESTAB'),
      is("the server while the client was in CLOSING (its own FIN ACKed by the client)", ev.serverWhileClosing, 'FIN-WAIT-2'),
      is('both ends once the FIN got through', ev.finally, 'TIME-WAIT / TIME-WAIT'),
    ),
  }),
  tables: (ev) => [{
    title: 'How the two ends finished',
    columns: ['scenario', 'client / server', 'connections'],
    rows: [
      ...[...new Set(ev.outcomes)].map((x) => ['close() on both ends in the same instant', x, String(ev.outcomes.filter((y) => y === x).length)]),
      [`client FIN lost, server closed ${ev.gap} ms later`, `${ev.clientHeld} / ${ev.serverWhileClosing}`, '1'],
      ['... after the FIN got through', ev.finally, '1'],
    ],
  }],
});
