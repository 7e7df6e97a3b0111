// Does a client that reconnects get a new local port because its old one is held in TIME-WAIT?
import { A001, LOOPBACK, all, connect, closeActively, defineLab, dial, is, isNot, leave, stateIn } from '../harness/index.ts';

export default defineLab({
  title: 'A reconnecting client gets a new local port while the old one is in TIME-WAIT',
  setup:
    'A client connects, closes first (its end goes to TIME-WAIT) and connects again to the same server. The lab ' +
    'records both local ports, the old end\'s state at the moment of the reconnect, and what connect() says when ' +
    'it is told to use the old port again.',
  claims: {
    'reconnect-new-port': [A001, 'A client that reconnects gets a new local port, because its old port is still held in TIME-WAIT.'],
  },
  async run(ctx) {
    ctx.step('connect, close from the client, and wait for its TIME-WAIT');
    const first = await leave(ctx, 1, 'TIME-WAIT', { on: 'client' });
    ctx.step('connect again, then once more from the old port');
    const again = await connect(first.port, LOOPBACK);
    ctx.defer(() => again.destroy());
    const snap = await ctx.snapshot('at the reconnect', { focus: { port: first.port } });
    const reuse = dial(first.port, first.ends[0].localPort);
    ctx.defer(() => reuse.socket.destroy());
    const outcome = await reuse.outcome;
    if (outcome.ok) await closeActively(reuse.socket);
    return {
      oldPort: first.ends[0].localPort,
      newPort: again.localPort!,
      oldState: stateIn(snap, first.ends[0]),
      sameOldPort: outcome.ok ? 'connected' : outcome.code,
    };
  },
  judge: (ev) => ({
    'reconnect-new-port': all(
      isNot(`local port of the reconnect (the old one was ${ev.oldPort})`, ev.newPort, ev.oldPort),
      is('state of the old local port at the reconnect', ev.oldState, 'TIME-WAIT'),
      isNot('connect() told to use the old port again', ev.sameOldPort, 'connected'),
    ),
  }),
});
