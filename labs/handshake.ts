// The handshake states, each held with a dropped segment, and how a handshake that stays stuck ends.
import { A001, Faults, LOOPBACK, NFT_INSTALL, all, deadline, defineLab, dial, endsOf, filterSockets, is, listen, need, stateIn, machineSlowness, waitForEnd, waitForGone, type DialOutcome } from '../harness/index.ts';
/** tcp_syn_retries and tcp_synack_retries: 1 (a stuck handshake ends in ~3 s); more on a slower machine such as an emulated guest (each doubles the time; not for a busy host's load), so a rule lifted some harness steps later (nft takes seconds there) still finds the handshake alive */
const RETRIES = String(1 + Math.round(Math.log2(machineSlowness())));
const text = (o: DialOutcome) => (o.ok ? `connected after ${o.ms} ms` : `${o.code} after ${o.ms} ms`);
export default defineLab({
  title: 'The handshake states: LISTEN, SYN-SENT, SYN-RECV, ESTABLISHED, held with dropped segments',
  seconds: 3.5,
  setup:
    'A listener is opened (LISTEN). A client connects while an nft rule drops its SYN (SYN-SENT), then the rule is ' +
    'lifted and the retransmitted SYN completes it. Another client connects while its last handshake ACK is dropped: ' +
    'the server holds the connection in SYN-RECV (accept() does not return) until the rule is lifted. Two more ' +
    'handshakes are left stuck (tcp_syn_retries and tcp_synack_retries = 1; more on an emulated guest) to show how ' +
    'they end: connect() fails, and the server forgets a half-open connection the client still believes in.',
  claims: {
    'listen-state': [A001, 'A server socket that has called listen() is in LISTEN, ready to accept connections.'],
    'syn-sent-state': [A001, "A client that has sent its SYN is in SYN_SENT until the SYN+ACK (the handshake's second segment) arrives."],
    'syn-rcvd-hidden': [A001, "SYN_RCVD is the server side's short intermediate state after receiving a SYN; netstat hardly ever shows it unless the handshake's last ACK is withheld, and it becomes ESTABLISHED when that ACK arrives."],
    'established-state': [A001, 'After the three handshake segments both ends are ESTABLISHED.'],
  },
  sysctls: { 'net.ipv4.tcp_syn_retries': RETRIES, 'net.ipv4.tcp_synack_retries': RETRIES },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    const faults = await Faults.open(ctx);
    const [P, lost, half] = [ctx.port(), ctx.port(), ctx.port()];
    const [main] = await Promise.all([P, lost, half].map(async (port) => { const l = await listen({ host: LOOPBACK, port }); ctx.defer(() => l.close()); return l; }));
    ctx.step('LISTEN');
    const listening = filterSockets((await ctx.snapshot('LISTEN', { focus: { state: 'LISTEN' } })).sockets, { localPort: P, state: 'LISTEN' }).length;
    ctx.step('start two handshakes that stay stuck (they end in the background, ~3 s)');
    await faults.drop({ kind: 'syn', toPort: lost }, 'the SYN never arrives: connect() must give up');
    const halfRule = await faults.drop({ kind: 'handshake-ack', toPort: half }, 'the last ACK never arrives: the server must give up');
    const [doomedSent, doomedRecv] = [dial(lost, 41001, LOOPBACK), dial(half, 41002, LOOPBACK)];
    for (const d of [doomedSent, doomedRecv]) ctx.defer(() => d.socket.destroy());
    ctx.step('SYN-SENT: SYNs dropped, then let through');
    const synRule = await faults.drop({ kind: 'syn', toPort: P }, 'hold the client in SYN-SENT');
    const a = dial(P, 41000, LOOPBACK);
    ctx.defer(() => a.socket.destroy());
    const sent = { held: stateIn(await waitForEnd(ctx, endsOf(41000, P).client, 'SYN-SENT', { label: 'SYN-SENT (SYN dropped)' }), endsOf(41000, P).client), dropped: await faults.lift(synRule, 'let the retransmitted SYN through'), connect: text(await a.outcome), resolved: '' };
    await main.nextConnection();
    sent.resolved = stateIn(await waitForEnd(ctx, endsOf(41000, P).client, 'ESTAB'), endsOf(41000, P).client);
    ctx.step("SYN-RECV: the handshake's last ACK dropped, then let through");
    const ackRule = await faults.drop({ kind: 'handshake-ack', toPort: P }, 'hold the server in SYN-RECV');
    const [before, b, bEnds] = [main.connections.length, dial(P, 41003, LOOPBACK), endsOf(41003, P)];
    ctx.defer(() => b.socket.destroy());
    const bConnect = text(await b.outcome);
    const held = await waitForEnd(ctx, bEnds.server, 'SYN-RECV', { label: 'SYN-RECV (last ACK dropped)' });
    const acceptedWhileHeld = main.connections.length - before;
    const [dropped, liftedAt] = [await faults.lift(ackRule, 'let the ACK of the retransmitted SYN+ACK through'), Date.now()];
    await main.nextConnection();
    const recv = { dropped, held: stateIn(held, bEnds.server), client: stateIn(held, bEnds.client), clientConnect: bConnect, acceptedWhileHeld, acceptMs: Date.now() - liftedAt, resolved: stateIn(await waitForEnd(ctx, bEnds.server, 'ESTAB'), bEnds.server), plain: 0 };
    ctx.step('ESTABLISHED: a plain handshake');
    const c = dial(P, 41004, LOOPBACK);
    ctx.defer(() => c.socket.destroy());
    const [cOutcome] = [await c.outcome, await main.nextConnection()];
    const est = await waitForEnd(ctx, endsOf(41004, P).server, 'ESTAB', { label: 'ESTABLISHED' });
    recv.plain = filterSockets(est.sockets, { localPort: P, state: 'SYN-RECV' }).length;
    ctx.step('the stuck handshakes end');
    const stuckSent = text(await doomedSent.outcome);
    const gone = await waitForGone(ctx, endsOf(41002, half).server, { timeoutMs: 8000, progress: true, label: 'SYN-RECV expired' });
    const stuckRecv = { goneAfterMs: Date.now() - doomedRecv.startedAt, client: stateIn(gone, endsOf(41002, half).client), write: '' };
    await faults.lift(halfRule, "so the client's data can reach the server");
    doomedRecv.socket.write('hello?');
    stuckRecv.write = await ((ms) => Promise.race([doomedRecv.laterError, new Promise<undefined>((r) => setTimeout(r, ms))]).then((e) => e?.code ?? `no error within ${ms} ms`))(deadline(2000));
    return { listening, accepted: main.connections.length, sent, recv, established: { connect: text(cOutcome), client: stateIn(est, endsOf(41004, P).client), server: stateIn(est, endsOf(41004, P).server) }, stuckSent, stuckRecv };
  },
  judge: ({ listening, accepted, sent, recv, established: e }) => ({
    'listen-state': all(is('LISTEN sockets on the port right after listen()', listening, 1), is('connections it then accepted (of 3 completed handshakes)', accepted, 3)),
    'syn-sent-state': all(
      need('the rule dropped a SYN', sent.dropped > 0, 'it dropped none'),
      is('the client while its SYN went unanswered', sent.held, 'SYN-SENT'),
      is(`the client once the SYN+ACK could arrive (connect(): ${sent.connect})`, sent.resolved, 'ESTAB'),
    ),
    'syn-rcvd-hidden': all(
      need("the rule dropped the handshake's last ACK", recv.dropped > 0, 'it dropped none'),
      is('SYN-RECV sockets right after a plain handshake', recv.plain, 0),
      is(`the server end while the last ACK was dropped (client end ${recv.client})`, recv.held, 'SYN-RECV'),
      is('connections accept() returned meanwhile', recv.acceptedWhileHeld, 0),
      is(`the server end once the ACK arrived (accept() ${recv.acceptMs} ms after the lift)`, recv.resolved, 'ESTAB'),
    ),
    'established-state': all(need('the plain handshake completed', e.connect.startsWith('connected'), `connect(): ${e.connect}`), is('client end', e.client, 'ESTAB'), is('server end', e.server, 'ESTAB')),
  }),
  tables: (ev) => [{
    title: 'Handshakes held with a dropped segment, and how they end',
    columns: ['fault', 'held state', 'fault lifted', `fault kept (tcp_syn_retries = tcp_synack_retries = ${RETRIES})`],
    rows: [
      ['SYN dropped', `client ${ev.sent.held}`, `connect() ${ev.sent.connect}`, `connect() ${ev.stuckSent}`],
      ['last ACK dropped', `server ${ev.recv.held}, client ${ev.recv.client}`, `accept() ${ev.recv.acceptMs} ms after the lift`, `server end gone after ${ev.stuckRecv.goneAfterMs} ms; client still ${ev.stuckRecv.client}; its write got ${ev.stuckRecv.write}`],
    ],
  }],
});
