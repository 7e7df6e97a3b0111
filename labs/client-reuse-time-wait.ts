// Can a client socket with SO_REUSEADDR or SO_REUSEPORT take over its old connection's TIME-WAIT at once?
import { setTimeout as sleep } from 'node:timers/promises';
import { A000, LOOPBACK, because, closeClient, connectClient, createNetns, defineLab, filterSockets, listenIn, missing, some, yes, type Netns } from '../harness/index.ts';

const OLD = ['plain', 'reuseaddr', 'reuseport'] as const;
const NEW = ['reuseaddr', 'reuseport'] as const;
const WAIT = ['at once', 'after 1.1 s'] as const;
const opts = (o: string) => ({ reuseaddr: o === 'reuseaddr', reuseport: o === 'reuseport' });

export default defineLab({
  title: "A client with SO_REUSEADDR or SO_REUSEPORT and its old connection's TIME-WAIT: taken over at once?",
  seconds: 2,
  setup:
    'In two namespaces, one with tcp_tw_reuse at its default (2: loopback only) and one with 0: a client (with no option, ' +
    'SO_REUSEADDR or SO_REUSEPORT) binds a port of its own, connects and closes first, leaving TIME-WAIT on that port. ' +
    '(An unbound client would take an ephemeral port, which connect() may also give a concurrent cell going elsewhere.) A new socket (SO_REUSEADDR ' +
    'or SO_REUSEPORT) binds that same port and connects to the same server, at once and again after 1.1 s (past ' +
    "tcp_tw_reuse's 1 s). Each step's errno is recorded, and ss shows whether the TIME-WAIT is still there. Sockets " +
    'are made outside libuv, which would set SO_REUSEADDR on every bound socket.',
  claims: {
    'reuse-option-takes-over': [A000, "With SO_REUSEADDR or SO_REUSEPORT set, a new connection from the same port to the same peer can take over the old connection's TIME_WAIT at once."],
  },
  async run(ctx) {
    const phase = async (ns: Netns, twReuse: string) => {
      await ns.sysctl('net.ipv4.tcp_tw_reuse', twReuse);
      return ctx.matrix({ old: OLD, new: NEW, wait: WAIT }, async (cell) => {
        const port = ctx.port();
        const l = await listenIn(ns, { host: LOOPBACK, port, reuseaddr: true });
        ctx.defer(() => l.close());
        l.server.on('connection', (s) => { s.on('end', () => s.end()); s.resume(); });
        const old = ns.within(() => connectClient(LOOPBACK, port, { ...opts(cell.old), localPort: ctx.port() }));
        if (old.fd === undefined) throw new Error(`the first connection failed: bind ${old.bind}, connect ${old.connect}`);
        closeClient(old.fd);
        await ctx.waitForSockets(`TIME-WAIT on ${ns.name} client port ${old.localPort}`, { localPort: old.localPort, peerPort: port, state: 'TIME-WAIT' }, { host: ns.host });
        const twAt = Date.now();
        if (cell.wait !== 'at once') await sleep(1100); // tcp_tw_reuse takes over only a TIME-WAIT older than 1 s: a kernel rule, waited out
        const again = ns.within(() => connectClient(LOOPBACK, port, { ...opts(cell.new), localPort: old.localPort }));
        const ageMs = Date.now() - twAt;
        if (again.fd !== undefined) ctx.defer(() => closeClient(again.fd!));
        const read = (await ctx.waitSs('the port after the new connect', () => true, { host: ns.host })).sockets;
        const on = (state: 'TIME-WAIT' | 'ESTAB') => filterSockets(read, { localPort: old.localPort, peerPort: port, state }).length;
        return { ageMs, bind: again.bind, connect: again.connect, timeWaitLeft: on('TIME-WAIT'), established: on('ESTAB') };
      }, { concurrent: true });
    };
    ctx.step('both namespaces at once: every old x new option, connecting at once and after 1.1 s');
    const [def, off] = await Promise.all([createNetns(ctx, 'tw-reuse-default'), createNetns(ctx, 'tw-reuse-0')]);
    const [defaultValue, timestamps] = [def.readSysctl('net.ipv4.tcp_tw_reuse'), def.readSysctl('net.ipv4.tcp_timestamps')];
    const [withReuse, without] = await Promise.all([phase(def, defaultValue), phase(off, '0')]);
    return { defaultValue, timestamps, cells: [...withReuse.map((c) => ({ ...c, twReuse: defaultValue })), ...without.map((c) => ({ ...c, twReuse: '0' }))] };
  },
  judge: ({ defaultValue, timestamps, cells }) => {
    const seen = cells.filter((c) => c.evidence);
    if (!seen.length) return { 'reuse-option-takes-over': missing('a new connection from a port in TIME-WAIT', 'no cell ran') };
    const took = (c: (typeof cells)[number]) => c.evidence?.connect === 'ok' && c.evidence.timeWaitLeft === 0;
    const label = (c: (typeof cells)[number]) => `tcp_tw_reuse=${c.twReuse}, ${c.old} -> ${c.new}, ${c.wait}`;
    const list = (xs: typeof cells) => xs.map(label).join('; ') || 'none';
    const atOnce = seen.filter((c) => c.wait === 'at once');
    const outcome = (c: (typeof cells)[number]) => (c.evidence!.bind !== 'ok' ? `bind ${c.evidence!.bind}` : `connect ${c.evidence!.connect}`);
    const refused = atOnce.filter((c) => !took(c));
    return {
      'reuse-option-takes-over': because(some(
        ...atOnce.map((c) => yes(`${label(c)} (TIME-WAIT ${c.evidence!.ageMs} ms old): took over the TIME-WAIT`, took(c))),
      ), `Refused at once: ${refused.map((c) => `${label(c)}: ${outcome(c)}`).join('; ') || 'none'}. With tcp_tw_reuse=0 it took over in: ${list(seen.filter((c) => c.twReuse === '0' && took(c)))}. tcp_timestamps was ${timestamps}.`),
    };
  },
  tables: ({ cells }) => [{
    title: 'A new socket on the port of a TIME-WAIT, to the same server',
    columns: ['tcp_tw_reuse', 'old socket', 'new socket', 'when', 'bind', 'connect', 'TIME-WAIT left', 'new ESTAB'],
    rows: cells.map((c) => [c.twReuse, c.old, c.new, c.evidence ? `${c.wait} (${c.evidence.ageMs} ms)` : c.wait, c.evidence?.bind ?? c.error ?? '?', c.evidence?.connect ?? '-', String(c.evidence?.timeWaitLeft ?? '-'), String(c.evidence?.established ?? '-')]),
  }],
});
