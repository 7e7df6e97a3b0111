// What puts a socket in CLOSE-WAIT: the peer closing, or a failed network?
import { A002, Faults, NFT_INSTALL, WaitTimeout, all, check, counterDelta, defineLab, is, pair, readCounters, setSockOpts, stateIn, waitForEnd } from '../harness/index.ts';

export default defineLab({
  title: 'CLOSE-WAIT comes from the peer closing; a failed network does not produce it',
  setup:
    'On loopback, one connection is closed by its client while the server application does nothing: ss shows the ' +
    'server end, and the namespace counters show whether anything went wrong on the wire. On a second connection ' +
    'the network fails instead: an nft rule drops everything the client sends while the server sends data with ' +
    'TCP_USER_TIMEOUT 1 s. Every state the server end passes through is recorded until it is gone.',
  claims: {
    'close-wait-from-network': [A002, 'A socket ends up in CLOSE_WAIT when the peer closes the connection actively or when the network fails.'],
  },
  needs: [{ program: 'nft', install: NFT_INSTALL }],
  async run(ctx) {
    const p = await pair(ctx);
    const before = await readCounters();
    ctx.step('the client closes; the server application does nothing');
    p.client.end();
    const cw = await waitForEnd(ctx, p.ends.server, 'CLOSE-WAIT', { label: 'server end after the peer closed' });
    const wire = counterDelta(before, await readCounters(), ['Tcp.RetransSegs', 'Tcp.OutRsts', 'TcpExt.TCPTimeouts']);
    ctx.step('second connection: the network fails (nothing from the client arrives) while the server sends');
    const q = await pair(ctx);
    await (await Faults.open(ctx)).drop({ kind: 'all', fromPort: q.clientPort }, 'the network between them fails');
    setSockOpts(q.server, { userTimeoutMs: 1000 });
    q.server.write('data into a dead network');
    const seen = new Set<string>();
    await ctx.waitSs('the server end to end', (xs) => { const st = stateIn(xs, q.ends.server); seen.add(st); return st === 'absent'; }, { timeoutMs: 5000, label: 'server end after the network failed' })
      .catch((e) => { if (!(e instanceof WaitTimeout)) throw e; });
    return { afterPeerClose: stateIn(cw, p.ends.server), wireTrouble: Object.values(wire).reduce((a, b) => a + b, 0), networkStates: [...seen] };
  },
  judge: (ev) => ({
    'close-wait-from-network': all(
      is(`our end after the peer closed (segments lost, retransmitted or reset meanwhile: ${ev.wireTrouble})`, ev.afterPeerClose, 'CLOSE-WAIT'),
      check('states our end passed through after the network failed', ev.networkStates.join(' -> '), 'CLOSE-WAIT among them', ev.networkStates.includes('CLOSE-WAIT')),
    ),
  }),
});
