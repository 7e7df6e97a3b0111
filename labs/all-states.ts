// Article 001's eleven TCP states, each produced by the step the article names and proven by its ss line.
import { A001, Faults, LOOPBACK, NFT_INSTALL, all, check, defineLab, dial, endIn, endsOf, filterSockets, formatRecord, listen, pair, waitForEnd, waitForGone, type End, type SnapshotRecord, type SsState } from '../harness/index.ts';

const ORDER = ['CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECV', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'] as const;
type Proof = { state: string; side: string; how: string; seen: string; line?: string; snapshot: string };

export default defineLab({
  title: 'Every TCP state on demand: the eleven states of article 001, each with the ss line that proves it',
  setup:
    'Connections on loopback are driven through every TCP state. States that last microseconds are held by nft rules ' +
    "that drop one kind of segment: the SYN (SYN-SENT), the handshake's last ACK (SYN-RECV), the ACK of a FIN " +
    '(FIN-WAIT-1), the final ACK (LAST-ACK), a FIN (CLOSING). Each state is checked on the end and after the step ' +
    'the article says produces it, and proven by the ss line recorded while it was held; CLOSED by the socket leaving ss.',
  claims: {
    'eleven-states': [A001, 'A TCP connection passes through eleven states (CLOSED, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT), each entered by the side and step the article describes.'],
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    const faults = await Faults.open(ctx);
    const proofs: Proof[] = [];
    const prove = (state: SsState, end: End, how: string, snap: SnapshotRecord) => {
      const r = endIn(snap, end);
      proofs.push({ state, side: end.name, how, seen: r?.state ?? 'absent', line: r && formatRecord(r).replace(/\s+/g, ' '), snapshot: snap.label });
    };
    const held = async (state: SsState, end: End, how: string) => { const s = await waitForEnd(ctx, end, state, { label: state }); prove(state, end, how, s); return s; };
    const [lp, sp, rp] = [ctx.port(), ctx.port(), ctx.port()];
    for (const port of [lp, sp, rp]) { const l = await listen({ host: LOOPBACK, port, allowHalfOpen: true }); ctx.defer(() => l.close()); }
    ctx.step('LISTEN');
    const ls = await ctx.snapshot('LISTEN', { focus: { state: 'LISTEN' } });
    const lr = filterSockets(ls.sockets, { localPort: lp, state: 'LISTEN' })[0];
    proofs.push({ state: 'LISTEN', side: 'server', how: 'listen() on a bound socket', seen: lr?.state ?? 'absent', line: lr && formatRecord(lr).replace(/\s+/g, ' '), snapshot: ls.label });
    ctx.step("SYN-SENT: the client's SYN is dropped");
    await faults.drop({ kind: 'syn', toPort: sp });
    const a = dial(sp, 42001, LOOPBACK);
    ctx.defer(() => a.socket.destroy());
    await held('SYN-SENT', endsOf(42001, sp).client, 'connect() while SYNs to the port are dropped');
    ctx.step("SYN-RECV: the handshake's last ACK is dropped");
    await faults.drop({ kind: 'handshake-ack', toPort: rp });
    const b = dial(rp, 42002, LOOPBACK);
    ctx.defer(() => b.socket.destroy());
    await b.outcome;
    await held('SYN-RECV', endsOf(42002, rp).server, "connect() while the client's handshake ACKs are dropped");
    ctx.step("CLOSING: the client's FIN is lost and the server closes before it arrives");
    const q = await pair(ctx);
    await faults.drop({ kind: 'fin', toPort: q.serverPort });
    q.client.destroy();
    await waitForEnd(ctx, q.ends.client, 'FIN-WAIT-1');
    q.server.destroy();
    await held('CLOSING', q.ends.client, "the client closed while FINs to the server are dropped, then the server closed");
    ctx.step('ESTABLISHED, FIN-WAIT-1 and CLOSE-WAIT, FIN-WAIT-2, then LAST-ACK and TIME-WAIT on one connection');
    const p = await pair(ctx);
    const e = p.ends;
    await held('ESTAB', e.client, 'connect() and accept() returned');
    const serverAcks = await faults.drop({ kind: 'fin-ack', fromPort: p.serverPort });
    p.client.end();
    await waitForEnd(ctx, e.server, 'CLOSE-WAIT');
    const fw1 = await held('FIN-WAIT-1', e.client, "the client called shutdown() while the server's ACKs are dropped");
    prove('CLOSE-WAIT', e.server, "the client called shutdown(); the server application has not closed", fw1);
    await faults.lift(serverAcks);
    await held('FIN-WAIT-2', e.client, "the server's ACKs let through again; the server application has not closed");
    const finalAck = await faults.drop({ kind: 'ack', toPort: p.serverPort });
    p.server.destroy();
    await waitForEnd(ctx, e.client, 'TIME-WAIT');
    const la = await held('LAST-ACK', e.server, "the server application closed while the client's ACKs are dropped");
    prove('TIME-WAIT', e.client, "the client closed first, then the server", la);
    ctx.step('CLOSED: let the final ACK of the LAST-ACK connection through');
    await faults.lift(finalAck, 'release the LAST-ACK end');
    const gone = await waitForGone(ctx, e.server, { timeoutMs: 4000, label: 'CLOSED' });
    proofs.push({ state: 'CLOSED', side: 'server', how: 'the rule dropping the final ACK was lifted', seen: endIn(gone, e.server) ? endIn(gone, e.server)!.state : 'CLOSED', snapshot: gone.label });
    return { proofs: ORDER.map((s) => proofs.find((x) => x.state === s)).filter((x): x is Proof => !!x) };
  },
  judge: ({ proofs }) => ({
    'eleven-states': all(ORDER.map((state) => {
      const p = proofs.find((x) => x.state === state);
      return check(`${state}: the ${p?.side ?? '?'} end after ${p?.how ?? 'its step'}`, p?.seen, state, p?.seen === state);
    })),
  }),
  tables: ({ proofs }) => [{
    title: 'Every TCP state, how it was produced here, and the ss line that proves it',
    columns: ['state', 'end', 'how it was produced', 'ss line (snapshot)'],
    rows: proofs.map((p) => [p.state, p.side, p.how, p.state === 'CLOSED' ? `no line for the ${p.side} end [${p.snapshot}]` : p.line ? `${p.line} [${p.snapshot}]` : `NOT SEEN (${p.seen})`]),
  }],
});
