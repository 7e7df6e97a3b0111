// Tests: the handshake states of article 001 — LISTEN, SYN-SENT (SYN dropped), SYN-RECV (the handshake's last
// ACK dropped), ESTABLISHED — each held with an nft fault and seen in ss; and how a stuck handshake ends once
// the fault is lifted (it completes) or when it is not (connect fails / the server forgets it; errno, time).
import { A001 } from '../harness/lab/articles.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { dial, type DialOutcome } from '../harness/kernel/dial.ts';
import { describeEnd, endsOf, stateIn, waitForEnd, waitForGone } from '../harness/lab/endpoints.ts';
import { Faults, NFT_INSTALL } from '../harness/kernel/faults.ts';
import { defineLab } from '../harness/lab/define.ts';
import { listen } from '../harness/kernel/sockets.ts';
import { filterSockets } from '../harness/evidence/census.ts';

const HOST = '127.0.0.1';

const outcomeText = (o: DialOutcome) => (o.ok ? `connected after ${o.ms} ms` : `failed with ${o.code} after ${o.ms} ms`);

export default defineLab({
  name: 'handshake',
  title: 'The handshake states: LISTEN, SYN-SENT, SYN-RECV, ESTABLISHED, held with dropped segments',
  description:
    'A listener is opened (LISTEN). A client connects while its SYN is dropped by an nft rule in the sandbox, so ' +
    'it sits in SYN-SENT; the rule is lifted and the retransmitted SYN completes the connection. Another client ' +
    'connects while its last handshake ACK is dropped: the client is ESTABLISHED but the server holds the ' +
    'connection in SYN-RECV (accept() does not return) until the rule is lifted and the retransmitted SYN+ACK is ' +
    'answered. Two more handshakes are left stuck (tcp_syn_retries and tcp_synack_retries set to 1 in the sandbox) ' +
    'to show how they end: connect() fails, and the server drops the half-open connection while the client still ' +
    'believes it is connected.',
  claims: [
    { id: 'listen-state', source: A001, statement: 'A server socket that has called listen() is in LISTEN, ready to accept connections.' },
    { id: 'syn-sent-state', source: A001, statement: 'A client that has sent its SYN is in SYN_SENT until the SYN+ACK (the handshake\'s second segment) arrives.' },
    {
      id: 'syn-rcvd-hidden',
      source: A001,
      statement:
        'SYN_RCVD is the server side\'s short intermediate state after receiving a SYN; netstat hardly ever shows it unless a client deliberately withholds the handshake\'s last ACK, and it becomes ESTABLISHED when that ACK arrives.',
    },
    { id: 'established-state', source: A001, statement: 'After the three handshake segments both ends are ESTABLISHED.' },
  ],
  options: {
    port: { type: 'number', min: 1024, max: 60000, default: 9000, describe: 'listener port (this and the next two are used)' },
  },
  sysctls: { 'net.ipv4.tcp_syn_retries': '1', 'net.ipv4.tcp_synack_retries': '1' },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx: LabContext) {
    const P = ctx.options.port as number;
    const faults = await Faults.open(ctx);
    const listeners = await Promise.all([P, P + 1, P + 2].map((port) => listen({ host: HOST, port })));
    for (const l of listeners) ctx.defer(() => l.close());
    const [main] = listeners;

    ctx.step(`LISTEN: listeners on :${P}, :${P + 1}, :${P + 2}`);
    const listenSnap = await ctx.snapshot('LISTEN', { focus: { state: 'LISTEN' } });

    ctx.step('start two handshakes that will be left stuck (they end in the background, ~3 s)');
    await faults.drop({ kind: 'syn', toPort: P + 1 }, 'the SYN never arrives: connect() must give up');
    const doomedRecvFault = await faults.drop({ kind: 'handshake-ack', toPort: P + 2 }, 'the last ACK never arrives: the server must give up');
    const doomedSent = dial(P + 1, 41001, HOST);
    const doomedRecv = dial(P + 2, 41002, HOST);
    for (const d of [doomedSent, doomedRecv]) ctx.defer(() => d.socket.destroy());

    // --- SYN-SENT, held then released -------------------------------------------------------------
    ctx.step(`SYN-SENT: drop SYNs to :${P} and connect from :41000`);
    const synFault = await faults.drop({ kind: 'syn', toPort: P }, 'hold the client in SYN-SENT');
    const a = dial(P, 41000, HOST);
    ctx.defer(() => a.socket.destroy());
    const aEnds = endsOf(41000, P);
    const synSentSnap = await waitForEnd(ctx, aEnds.client, 'SYN-SENT', { label: 'SYN-SENT (SYN dropped)' });
    const liftedAt = Date.now();
    const synsDropped = await faults.lift(synFault, 'let the retransmitted SYN through');
    const aOutcome = await a.outcome;
    ctx.event('connect', `client :41000 ${outcomeText(aOutcome)} (${Date.now() - liftedAt} ms after the rule was lifted)`, { port: 41000, ...aOutcome, afterLiftMs: Date.now() - liftedAt, synsDropped });
    await main.nextConnection();
    const synSentDone = await waitForEnd(ctx, aEnds.client, 'ESTAB', { label: 'SYN-SENT resolved' });

    // --- SYN-RECV, held then released -------------------------------------------------------------
    ctx.step(`SYN-RECV: drop the handshake's last ACK (client -> :${P}) and connect from :41003`);
    const ackFault = await faults.drop({ kind: 'handshake-ack', toPort: P }, 'hold the server in SYN-RECV');
    const acceptedBefore = main.connections.length;
    const b = dial(P, 41003, HOST);
    ctx.defer(() => b.socket.destroy());
    const bEnds = endsOf(41003, P);
    const bOutcome = await b.outcome;
    ctx.event('connect', `client :41003 ${outcomeText(bOutcome)} although its last ACK is being dropped`, { port: 41003, ...bOutcome });
    const synRecvSnap = await waitForEnd(ctx, bEnds.server, 'SYN-RECV', { label: 'SYN-RECV (last ACK dropped)' });
    const acceptedWhileHeld = main.connections.length - acceptedBefore;
    ctx.event('accept', `accept() returned ${acceptedWhileHeld} connection(s) while the server end was in SYN-RECV`, { acceptedWhileHeld });
    const ackLiftedAt = Date.now();
    const acksDropped = await faults.lift(ackFault, 'let the ACK of the retransmitted SYN+ACK through');
    await main.nextConnection();
    const acceptMs = Date.now() - ackLiftedAt;
    ctx.event('accept', `accept() returned ${acceptMs} ms after the rule was lifted (${acksDropped} ACK(s) had been dropped)`, { afterLiftMs: acceptMs, acksDropped });
    const synRecvDone = await waitForEnd(ctx, bEnds.server, 'ESTAB', { label: 'SYN-RECV resolved' });

    // --- ESTABLISHED --------------------------------------------------------------------------------
    ctx.step(`ESTABLISHED: a plain connection from :41004`);
    const c = dial(P, 41004, HOST);
    ctx.defer(() => c.socket.destroy());
    const cOutcome = await c.outcome;
    ctx.event('connect', `client :41004 ${outcomeText(cOutcome)}`, { port: 41004, ...cOutcome });
    await main.nextConnection();
    ctx.event('accept', `the listener on :${P} has accepted ${main.connections.length} connection(s)`, { accepted: main.connections.length });
    const cEnds = endsOf(41004, P);
    const estSnap = await waitForEnd(ctx, cEnds.server, 'ESTAB', { label: 'ESTABLISHED' });

    // --- the stuck handshakes end -------------------------------------------------------------------
    ctx.step('the stuck handshakes: connect() to a SYN that is always dropped, and a server whose last ACK never arrives');
    const dEnds = endsOf(41002, P + 2);
    await ctx.snapshot('stuck handshakes', { focus: { state: ['SYN-SENT', 'SYN-RECV'] } });
    const sentOutcome = await doomedSent.outcome;
    ctx.event('connect', `client :41001 (SYN always dropped, tcp_syn_retries=1): ${outcomeText(sentOutcome)}`, { port: 41001, ...sentOutcome });
    const waitFrom = Date.now();
    const expiredSnap = await waitForGone(ctx, dEnds.server, { timeoutMs: 8000, progress: true, label: 'SYN-RECV expired' });
    const recvGoneMs = Date.now() - waitFrom;
    const recvGoneAt = Date.now() - doomedRecv.startedAt;
    ctx.event('expire', `server end :${P + 2} <- :41002 left SYN-RECV and vanished ${recvGoneAt} ms after the SYN (tcp_synack_retries=1); the client end is ${stateIn(expiredSnap, dEnds.client)}`, { afterMs: recvGoneAt, waitedMs: recvGoneMs, clientState: stateIn(expiredSnap, dEnds.client) });
    await faults.lift(doomedRecvFault, 'so the client\'s data can reach the server');
    const writeAt = Date.now();
    doomedRecv.socket.write('hello?');
    const late = await Promise.race([doomedRecv.laterError, new Promise<undefined>((r) => setTimeout(r, 2000))]);
    ctx.event('errno', late ? `client :41002 wrote to the connection the server forgot: ${late.code} after ${late.atMs - writeAt} ms` : 'client :41002 wrote to the connection the server forgot: no error within 2 s', late ? { port: 41002, code: late.code, afterWriteMs: late.atMs - writeAt } : { port: 41002 });
    await ctx.snapshot('after the client wrote', { focus: { port: P + 2 } });

    ctx.table({
      title: 'Stuck handshakes and how they end',
      columns: ['fault', 'held state (ss)', 'fault lifted', 'fault kept'],
      rows: [
        [`SYN dropped`, describeEnd(synSentSnap, aEnds.client), `:41000 ${outcomeText(aOutcome)}`, `:41001 ${outcomeText(sentOutcome)}`],
        [
          `last ACK dropped`,
          describeEnd(synRecvSnap, bEnds.server),
          `accept() returned ${acceptMs} ms after the lift`,
          `server end gone after ${recvGoneAt} ms; client end then ${stateIn(expiredSnap, dEnds.client)}; its write got ${late?.code ?? 'no error'}`,
        ],
      ],
      note: 'tcp_syn_retries=1 and tcp_synack_retries=1 inside the sandbox: first retransmission after 1 s, give up 2 s later.',
    });

    // --- verdicts: not observed → inconclusive; observed otherwise → refuted / partly ------------------------
    const listening = filterSockets(listenSnap.sockets, { localPort: P, state: 'LISTEN' }).length;
    const accepted = main.connections.length;
    if (!listening) {
      ctx.verdict('listen-state', 'refuted', `listen() on :${P} succeeded, but the snapshot taken then listed no LISTEN socket on :${P} (${listenSnap.sockets.length} socket(s) in all).`);
    } else if (accepted < 3) {
      ctx.verdict('listen-state', 'partly', `ss listed 127.0.0.1:${P} in LISTEN, but it accepted only ${accepted} of the 3 connections that completed a handshake with it.`);
    } else {
      ctx.verdict('listen-state', 'confirmed', `ss listed 127.0.0.1:${P} in LISTEN before any client connected, and that socket then accepted ${accepted} connections.`);
    }

    const held = stateIn(synSentSnap, aEnds.client);
    const resolved = stateIn(synSentDone, aEnds.client);
    if (synsDropped === 0) {
      ctx.verdict('syn-sent-state', 'inconclusive', `the rule dropped no SYN, so nothing held the client (it was ${held}; after lifting: ${resolved})`);
    } else if (held !== 'SYN-SENT') {
      ctx.verdict('syn-sent-state', 'refuted', `With its SYN dropped (${synsDropped} SYN(s) matched the rule) the client was ${describeEnd(synSentSnap, aEnds.client)}, not SYN-SENT.`);
    } else if (resolved !== 'ESTAB' || !aOutcome.ok) {
      ctx.verdict('syn-sent-state', 'partly', `With its SYN dropped (${synsDropped}) the client was "${describeEnd(synSentSnap, aEnds.client)}", but once the SYN could be answered it was ${resolved} and connect() ${outcomeText(aOutcome)}.`);
    } else {
      ctx.verdict('syn-sent-state', 'confirmed', `With its SYN dropped (${synsDropped} SYN(s) matched the rule) the client was "${describeEnd(synSentSnap, aEnds.client)}"; once the rule was lifted the retransmitted SYN was answered and connect() completed (${outcomeText(aOutcome)} from the first SYN). Left dropped, connect() ${outcomeText(sentOutcome)}.`);
    }

    const recvHeld = stateIn(synRecvSnap, bEnds.server);
    const clientThen = stateIn(synRecvSnap, bEnds.client);
    const recvDone = stateIn(synRecvDone, bEnds.server);
    const plainSynRecv = filterSockets(estSnap.sockets, { localPort: P, state: 'SYN-RECV' }).length;
    if (acksDropped === 0) {
      ctx.verdict('syn-rcvd-hidden', 'inconclusive', `the rule dropped no handshake ACK, so nothing held the server end (it was ${recvHeld}; after lifting: ${recvDone})`);
    } else if (recvHeld !== 'SYN-RECV') {
      ctx.verdict('syn-rcvd-hidden', 'refuted', `With the client's last ACK dropped (${acksDropped}) the server end was ${describeEnd(synRecvSnap, bEnds.server)}, not SYN-RECV.`);
    } else if (acceptedWhileHeld > 0 || recvDone !== 'ESTAB') {
      ctx.verdict('syn-rcvd-hidden', 'partly', `With the client's last ACK dropped the server end was "${describeEnd(synRecvSnap, bEnds.server)}", but accept() returned ${acceptedWhileHeld} connection(s) meanwhile and after lifting the rule it was ${recvDone}.`);
    } else {
      ctx.verdict('syn-rcvd-hidden', 'confirmed', `With the client's last ACK dropped ss showed the server end "${describeEnd(synRecvSnap, bEnds.server)}" (client end already ${clientThen}; accept() had not returned); the snapshot right after a plain handshake listed ${plainSynRecv} SYN-RECV socket(s) on :${P}. After lifting the rule the server retransmitted its SYN+ACK, the client's ACK got through and the server end became ESTAB (accept() returned ${acceptMs} ms after the lift). No special client is needed: losing that one ACK on the path is enough (here an nft rule, on a real server a lossy link or a SYN flood).`);
    }

    const ce = stateIn(estSnap, cEnds.client);
    const se = stateIn(estSnap, cEnds.server);
    if (!cOutcome.ok) {
      ctx.verdict('established-state', 'inconclusive', `the plain handshake from :41004 did not complete (connect() ${outcomeText(cOutcome)}), so there was no connection to look at`);
    } else if (ce === 'ESTAB' && se === 'ESTAB') {
      ctx.verdict('established-state', 'confirmed', `Both ends of :41004 <-> :${P} were ESTAB right after connect() and accept() returned.`);
    } else {
      ctx.verdict('established-state', 'refuted', `connect() and accept() both returned, but then the client end was ${ce} and the server end ${se}.`);
    }
  },
});
