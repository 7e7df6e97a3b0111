// What puts a socket in CLOSE-WAIT: a network problem, or an application that has not called close()?
import { A002, because, check, counterDelta, defineLab, every, need, pair, readCounters, stateIn, waitForEnd, waitForGone } from '../harness/index.ts';

export default defineLab({
  title: 'CLOSE-WAIT comes from the application not calling close(), not from the network',
  setup:
    'On loopback with no fault rule at all, a client closes its end of a connection while the server application ' +
    "does nothing. The namespace's retransmission and error counters show whether anything went wrong on the wire; " +
    "ss shows the server end. Then the server application calls close() and the state is read again.",
  claims: {
    'close-wait-from-network': [A002, 'CLOSE_WAIT piles up because of network abnormalities (the connection broke), rather than a program that never closes its sockets.'],
  },
  async run(ctx) {
    const p = await pair(ctx);
    const before = await readCounters();
    ctx.step('the client closes; the server application does nothing');
    p.client.end();
    const cw = await waitForEnd(ctx, p.ends.server, 'CLOSE-WAIT', { label: 'server end, its application idle' });
    const wire = counterDelta(before, await readCounters(), ['Tcp.RetransSegs', 'Tcp.InErrs', 'Tcp.OutRsts', 'TcpExt.TCPLossProbes', 'TcpExt.TCPTimeouts']);
    ctx.step('the server application calls close()');
    p.server.destroy();
    const gone = await waitForGone(ctx, p.ends.server, { label: 'after the server called close()' });
    return { serverIdle: stateIn(cw, p.ends.server), wireTrouble: Object.values(wire).reduce((a, b) => a + b, 0), wire, afterClose: stateIn(gone, p.ends.server) };
  },
  judge: (ev) => ({
    // the claim blames the network: a CLOSE-WAIT reached over a clean wire is a counterexample
    'close-wait-from-network': because(every(
      need('the server end reached CLOSE-WAIT', ev.serverIdle === 'CLOSE-WAIT', `it was ${ev.serverIdle}`),
      check(`network trouble behind that CLOSE-WAIT (${Object.entries(ev.wire).map(([k, v]) => `${k} +${v}`).join(', ')})`, ev.wireTrouble > 0 ? `${ev.wireTrouble} segment(s)` : 'none', 'some lost, retransmitted or reset segments', ev.wireTrouble > 0),
    ), `The server end left CLOSE-WAIT as soon as its application called close() (then: ${ev.afterClose}).`),
  }),
});
