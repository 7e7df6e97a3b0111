// Restarting a listener over its old connections: which of SO_REUSEADDR / SO_REUSEPORT make bind succeed.
import net from 'node:net';
import { A000, A001, LOOPBACK, adopt, all, because, cellAt, connect, defineLab, every, fdOf, int, is, leave, list, need, readReuse, tryListen, type BindAttempt, type LeftState } from '../harness/index.ts';

const MODES = ['none', 'reuseaddr', 'reuseport', 'both'] as const;
type Mode = (typeof MODES)[number];
const OTHER: LeftState[] = ['ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-2', 'LISTEN'];
const flags = (m: Mode) => ({ reuseaddr: m === 'reuseaddr' || m === 'both', reuseport: m === 'reuseport' || m === 'both' });
const outcome = (a: BindAttempt) => (a.bind !== 'ok' ? `bind ${a.bind}` : a.listen !== 'ok' ? `listen ${a.listen}` : 'ok');
export default defineLab({
  title: 'Restart a listener over TIME-WAIT: EADDRINUSE, SO_REUSEADDR and SO_REUSEPORT',
  setup:
    'A server closes its connections first, so its port keeps TIME-WAIT sockets; then its listener is closed and a ' +
    'new one binds the same port. Every pair of none / SO_REUSEADDR / SO_REUSEPORT / both on the old and the new ' +
    'listener is tried with sockets made outside libuv (read back with getsockopt), and each new listener must ' +
    'accept a connection. The restart is then tried over one old connection left ESTABLISHED, in CLOSE-WAIT or ' +
    'FIN-WAIT-2, and over the old listener still listening.',
  claims: {
    'restart-needs-reuseaddr': [A001, 'A server restarted while its old connections sit in TIME-WAIT fails to bind ("address already in use"); setting SO_REUSEADDR fixes it.'],
    'reuseport-not-over-time-wait': [A000, 'SO_REUSEPORT cannot bind over TIME-WAIT sockets, which is why servers set SO_REUSEADDR and SO_REUSEPORT together.'],
    'reuseaddr-only-time-wait': [A001, "SO_REUSEADDR only helps when the port's other sockets are in TIME-WAIT; with a socket in any other state on the port, bind still fails."],
  },
  options: {
    old: list(MODES, MODES, 'options of the old listener, whose connections end in TIME-WAIT'),
    new: list(MODES, MODES, 'options of the restarted listener'),
    connections: int(1, 200, 2, 'connections the old listener accepts and closes first, per combination', 'connections'),
  },
  async run(ctx, o) {
    ctx.step("check what Node's own net.Server sets on its listening socket");
    const plain = await new Promise<net.Server>((r) => { const s = net.createServer().listen(0, LOOPBACK, () => r(s)); });
    const nodeDefault = readReuse(fdOf(plain)); plain.close();
    ctx.step(`per combination: ${o.connections} connection(s) closed by the server, old listener closed, new one bound`);
    const restart = async (port: number, mode: Mode, state: string, leftovers: number) => {
      const a = tryListen({ host: LOOPBACK, port, ...flags(mode) });
      ctx.event('bind', `:${port} over ${state}, new ${mode}: ${outcome(a)}`, { ...a, state, mode, leftovers });
      if (a.fd !== undefined) {
        const l = await adopt(a);
        ctx.defer(() => l.close());
        (await connect(port, LOOPBACK)).destroy();
        await l.nextConnection(); // every successful restart also accepts a connection
      }
      return { port, leftovers, outcome: outcome(a) };
    };
    const tw = await ctx.matrix({ old: o.old, next: o.new }, async (c) => {
      const left = await leave(ctx, o.connections, 'TIME-WAIT', { on: 'server', ...flags(c.old), closeListener: true });
      return restart(left.port, c.next, `${o.connections} TIME-WAIT`, left.seen);
    }, { concurrent: true }); // each cell on its own port
    ctx.step('leave one old connection in ESTAB, CLOSE-WAIT or FIN-WAIT-2 (or keep the old listener), then restart');
    const others = await ctx.matrix({ state: OTHER, next: ['none', 'reuseaddr'] as Mode[] }, async (c) => {
      const left = await leave(ctx, 1, c.state, { on: 'server', reuseaddr: true, closeListener: c.state !== 'LISTEN' });
      return restart(left.port, c.next, c.state, left.seen);
    }, { concurrent: true });
    await ctx.snapshot('after the restarts', { focus: { state: ['LISTEN', 'TIME-WAIT', ...OTHER] } });
    return { nodeDefault, tw, others };
  },
  judge: ({ tw, others }, o) => {
    // a cell counts only if ss showed its old sockets in place when it was set up
    const at = (old: Mode, next: Mode) => ((e) => (e && e.leftovers >= o.connections ? e.outcome : undefined))(cellAt(tw, { old, next })?.evidence);
    const over = (state: LeftState) => ((e) => (e && (state === 'LISTEN' || e.leftovers >= 1) ? e.outcome : undefined))(cellAt(others, { state, next: 'reuseaddr' })?.evidence);
    const text = (old: Mode, next: Mode) => `restart ${old} -> ${next} over TIME-WAIT`;
    const rpFails = tw.filter((c) => flags(c.next).reuseport && c.evidence && c.evidence.outcome !== 'ok');
    return {
      'restart-needs-reuseaddr': because(
        all(is(text('none', 'none'), at('none', 'none'), 'bind EADDRINUSE'), is(text('reuseaddr', 'reuseaddr'), at('reuseaddr', 'reuseaddr'), 'ok')),
        at('none', 'reuseaddr') ? `SO_REUSEADDR on the new listener only: ${at('none', 'reuseaddr')}.` : '',
      ),
      'reuseport-not-over-time-wait': because(
        every(is(text('reuseport', 'reuseport'), at('reuseport', 'reuseport'), 'bind EADDRINUSE'), is(text('both', 'both'), at('both', 'both'), 'ok')),
        rpFails.length ? `New listeners with SO_REUSEPORT failed where: ${rpFails.map((c) => `${c.old} -> ${c.next}: ${c.evidence!.outcome}`).join('; ')}.` : '',
      ),
      'reuseaddr-only-time-wait': every(
        need('SO_REUSEADDR restart works over TIME-WAIT', at('reuseaddr', 'reuseaddr') === 'ok', `${text('reuseaddr', 'reuseaddr')}: ${at('reuseaddr', 'reuseaddr') ?? 'not observed'}`),
        OTHER.map((state) => is(`restart reuseaddr -> reuseaddr over ${state}`, over(state), 'bind EADDRINUSE')),
      ),
    };
  },
  tables: ({ tw, others, nodeDefault }, o) => [
    {
      title: `Restart over TIME-WAIT (${o.connections} per port): rows = old listener, columns = new listener`,
      columns: ['old \\ new', ...o.new],
      rows: o.old.map((old) => [old, ...o.new.map((next) => cellAt(tw, { old, next })?.evidence?.outcome ?? 'not observed')]),
      note: `ok = bind and listen succeeded and the listener accepted a connection. Node's net.Server sets SO_REUSEADDR=${+nodeDefault.reuseaddr} SO_REUSEPORT=${+nodeDefault.reuseport}.`,
    },
    {
      title: 'Restart over a socket in another state (old listener had SO_REUSEADDR)',
      columns: ['old socket on the port', 'new: none', 'new: reuseaddr'],
      rows: OTHER.map((state) => [state, ...(['none', 'reuseaddr'] as const).map((next) => cellAt(others, { state, next })?.evidence?.outcome ?? 'not observed')]),
    },
  ],
});
