// Tests: a listener restarted while its old connections sit in TIME-WAIT fails to bind without
// SO_REUSEADDR; whether SO_REUSEPORT alone can bind over TIME-WAIT; and whether SO_REUSEADDR only helps
// against TIME-WAIT (and not against ESTABLISHED, CLOSE-WAIT, FIN-WAIT-2 or a live LISTEN socket).
import net from 'node:net';
import { A000, A001 } from '../harness/lab/articles.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { adopt, closeActively, connect, fdOf, listen, readReuse, tryListen, type BindAttempt, type Listener } from '../harness/kernel/sockets.ts';
import type { SsState } from '../harness/evidence/ss.ts';


export const REUSE_MODES = ['none', 'reuseaddr', 'reuseport', 'both'] as const;
type Mode = (typeof REUSE_MODES)[number];

const flags = (m: Mode) => ({ reuseaddr: m === 'reuseaddr' || m === 'both', reuseport: m === 'reuseport' || m === 'both' });
const HOST = '127.0.0.1';

/** The states an old listener's leftover connection can be in when the new listener binds. */
const OTHER_STATES = ['ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-2', 'LISTEN'] as const;

interface Cell {
  old: Mode;
  next: Mode;
  port: number;
  /** sockets of the old listener, still on the port, as the snapshot before the restart showed them */
  leftovers: number;
  attempt?: BindAttempt;
  served?: boolean;
}

/** "ok", or where it failed and with which errno. */
export function outcomeText(a: BindAttempt | undefined): string {
  if (!a) return 'not run';
  if (a.bind !== 'ok') return `bind ${a.bind}`;
  if (a.listen !== 'ok') return `listen ${a.listen}`;
  return 'ok';
}
const succeeded = (a?: BindAttempt) => a?.bind === 'ok' && a.listen === 'ok';
const failedInUse = (a?: BindAttempt) => !!a && (a.bind === 'EADDRINUSE' || a.listen === 'EADDRINUSE');

/** Start a listener with `mode`, have `n` clients connect, and put each accepted connection in `state`. */
async function oldServer(mode: Mode, port: number, n: number, state: SsState): Promise<{ listener: Listener; clients: net.Socket[] }> {
  const halfOpen = state === 'CLOSE-WAIT';
  const listener = await listen({ host: HOST, port, ...flags(mode), allowHalfOpen: halfOpen });
  const clients: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const client = await connect(port, HOST, { allowHalfOpen: state === 'FIN-WAIT-2' });
    clients.push(client);
    const accepted = await listener.nextConnection();
    if (state === 'TIME-WAIT') void closeActively(accepted); // server closes first: TIME-WAIT stays on the server's port
    if (state === 'FIN-WAIT-2') accepted.end(); // client never answers with its FIN (allowHalfOpen)
    if (state === 'CLOSE-WAIT') client.end(); // server never answers with its FIN (allowHalfOpen)
  }
  return { listener, clients };
}

function countOn(snap: SnapshotRecord, port: number, state: SsState): number {
  return filterSockets(snap.sockets, { localPort: port, state }).length;
}

export default defineLab({
  name: 'time-wait-restart',
  title: 'Restart a listener over TIME-WAIT: EADDRINUSE, SO_REUSEADDR and SO_REUSEPORT',
  description:
    'A server accepts short connections and closes them first, so its own port is left with TIME-WAIT ' +
    'sockets; then the listener is closed and a new one binds the same port. Every combination of ' +
    'SO_REUSEADDR / SO_REUSEPORT on the old listener (whose connections are in TIME-WAIT) and on the new ' +
    'one is tried, with sockets made outside libuv so "none" really means none (read back with getsockopt). ' +
    'The same restart is then tried while an old connection is still ESTABLISHED, in CLOSE-WAIT, in ' +
    'FIN-WAIT-2, or while the old listener is still listening.',
  claims: [
    {
      id: 'restart-needs-reuseaddr',
      source: A001,
      statement:
        'A server restarted while its old connections are in TIME-WAIT cannot bind its port ("address already in use") unless it sets SO_REUSEADDR, and setting it fixes the restart.',
    },
    {
      id: 'reuseport-not-over-time-wait',
      source: A000,
      statement:
        'SO_REUSEPORT alone does not let a new listener bind over TIME-WAIT sockets, which is why servers set SO_REUSEADDR and SO_REUSEPORT together.',
    },
    {
      id: 'reuseaddr-only-time-wait',
      source: A001,
      statement:
        "SO_REUSEADDR only helps when the port's other sockets are in TIME-WAIT; with a socket in any other state on the port, bind still fails.",
    },
  ],
  options: {
    old: { type: 'string', array: true, choices: REUSE_MODES, default: REUSE_MODES, describe: "options of the old listener (whose connections end in TIME-WAIT); comma-separated" },
    new: { type: 'string', array: true, choices: REUSE_MODES, default: REUSE_MODES, describe: 'options of the restarted listener; comma-separated' },
    connections: { type: 'number', min: 1, max: 200, default: 2, describe: 'connections the old listener accepts and closes first, per combination' },
    port: { type: 'number', min: 1024, max: 65000, default: 9000, describe: 'first port; each combination uses its own port from here up' },
  },
  async run(ctx: LabContext) {
    const olds = ctx.options.old as Mode[];
    const nexts = ctx.options.new as Mode[];
    const n = ctx.options.connections as number;
    const base = ctx.options.port as number;

    ctx.step("check what Node's own net.Server sets on its listening socket");
    const plain = net.createServer();
    await new Promise<void>((r) => plain.listen(0, HOST, r));
    const nodeDefault = readReuse(fdOf(plain));
    await new Promise((r) => plain.close(r));
    ctx.event('sockopt', `net.Server listener: SO_REUSEADDR=${+nodeDefault.reuseaddr} SO_REUSEPORT=${+nodeDefault.reuseport} (getsockopt)`, nodeDefault);

    // --- TIME-WAIT matrix -------------------------------------------------------------------------
    const cells: Cell[] = olds.flatMap((old, i) => nexts.map((next, j) => ({ old, next, port: base + i * REUSE_MODES.length + j, leftovers: 0 })));
    ctx.step(`open ${cells.length} old listener(s), ${n} connection(s) each, and close every connection from the server side`);
    const olders = await Promise.all(cells.map((c) => oldServer(c.old, c.port, n, 'TIME-WAIT')));
    await ctx.waitForSockets('TIME-WAIT on the old listeners\' ports', { state: 'TIME-WAIT' }, { count: cells.length * n });
    ctx.step('close the old listeners; their connections stay in TIME-WAIT');
    await Promise.all(olders.map((o) => o.listener.close()));
    const before = await ctx.snapshot('before restart', { focus: { state: 'TIME-WAIT' } });
    for (const c of cells) c.leftovers = countOn(before, c.port, 'TIME-WAIT');

    ctx.step('restart: bind + listen a new socket on each port, with the new options');
    const opened: Listener[] = [];
    for (const c of cells) {
      const a = tryListen({ host: HOST, port: c.port, ...flags(c.next) });
      c.attempt = a;
      if (a.kernel.reuseaddr !== a.requested.reuseaddr || a.kernel.reuseport !== a.requested.reuseport) {
        throw new Error(`port ${c.port}: asked for ${JSON.stringify(a.requested)} but getsockopt reads ${JSON.stringify(a.kernel)}`);
      }
      ctx.event('bind', `old ${c.old} -> new ${c.next} on :${c.port} (${c.leftovers} TIME-WAIT): ${outcomeText(a)}`, { ...a, old: c.old, next: c.next, leftovers: c.leftovers });
      if (a.fd !== undefined) {
        const l = await adopt(a);
        opened.push(l);
        const client = await connect(c.port, HOST);
        await l.nextConnection();
        client.destroy();
        c.served = true;
      }
    }
    await ctx.snapshot('after restart', { focus: { state: ['LISTEN', 'TIME-WAIT'] } });
    await Promise.all(opened.map((l) => l.close()));

    ctx.table({
      title: `Restart over TIME-WAIT (${n} per port): rows = old listener, columns = new listener`,
      columns: ['old \\ new', ...nexts],
      rows: olds.map((old) => [old, ...nexts.map((next) => outcomeText(cells.find((c) => c.old === old && c.next === next)?.attempt))]),
      note: 'ok = bind and listen succeeded and the new listener accepted a connection; otherwise the call that failed and its errno.',
    });

    // --- other states -----------------------------------------------------------------------------
    ctx.step('leave one old connection in ESTABLISHED, CLOSE-WAIT or FIN-WAIT-2 (or keep the old listener open), then restart with and without SO_REUSEADDR');
    const otherBase = base + REUSE_MODES.length ** 2;
    const others = OTHER_STATES.flatMap((state, i) =>
      (['none', 'reuseaddr'] as const).map((next, j) => ({ state, next, port: otherBase + i * 2 + j, leftovers: 0, attempt: undefined as BindAttempt | undefined })),
    );
    const setups = await Promise.all(
      others.map((o) => oldServer('reuseaddr', o.port, o.state === 'LISTEN' ? 0 : 1, o.state === 'LISTEN' ? 'ESTAB' : o.state)),
    );
    const settled = others.filter((o) => o.state !== 'LISTEN');
    for (const state of ['CLOSE-WAIT', 'FIN-WAIT-2'] as const) {
      await ctx.waitForSockets(`${state} on the old listeners' ports`, { state }, { count: settled.filter((o) => o.state === state).length });
    }
    await Promise.all(setups.filter((_, i) => others[i].state !== 'LISTEN').map((s) => s.listener.close()));
    const otherBefore = await ctx.snapshot('before restart (other states)', { focus: { state: [...OTHER_STATES] } });
    for (const o of others) {
      o.leftovers = countOn(otherBefore, o.port, o.state);
      o.attempt = tryListen({ host: HOST, port: o.port, ...flags(o.next) });
      ctx.event('bind', `old reuseaddr, one socket in ${o.state} on :${o.port} (seen: ${o.leftovers}) -> new ${o.next}: ${outcomeText(o.attempt)}`, { ...o.attempt, state: o.state, next: o.next, leftovers: o.leftovers });
      if (o.attempt.fd !== undefined) {
        const l = await adopt(o.attempt);
        ctx.defer(() => l.close());
      }
    }
    await ctx.snapshot('after restart (other states)', { focus: { state: [...OTHER_STATES] } });
    for (const s of setups) {
      ctx.defer(() => s.listener.close());
      for (const c of s.clients) ctx.defer(() => c.destroy());
    }
    for (const o of olders) for (const c of o.clients) c.destroy();

    ctx.table({
      title: 'Restart over a socket in another state (old listener had SO_REUSEADDR)',
      columns: ['old socket on the port', 'new: none', 'new: reuseaddr'],
      rows: OTHER_STATES.map((state) => [
        state === 'LISTEN' ? 'LISTEN (old listener still open)' : state,
        ...(['none', 'reuseaddr'] as const).map((next) => outcomeText(others.find((o) => o.state === state && o.next === next)?.attempt)),
      ]),
    });

    // --- verdicts, from the attempts and the snapshots ---------------------------------------------
    const cell = (old: Mode, next: Mode) => cells.find((c) => c.old === old && c.next === next && c.leftovers === n);
    const describe = (c?: Cell) => (c ? `${c.old}->${c.next}: ${outcomeText(c.attempt)}` : 'not run');

    {
      const none = cell('none', 'none');
      const ra = cell('reuseaddr', 'reuseaddr');
      const late = cell('none', 'reuseaddr');
      if (!none || !ra) {
        ctx.verdict('restart-needs-reuseaddr', 'inconclusive', `needs the none->none and reuseaddr->reuseaddr combinations with ${n} TIME-WAIT each in the snapshot; got ${describe(none)}, ${describe(ra)}`);
      } else {
        const lateText = late ? ` Setting SO_REUSEADDR only on the new listener is not enough when the old one lacked it: ${describe(late)}.` : '';
        if (failedInUse(none.attempt) && succeeded(ra.attempt) && ra.served) {
          ctx.verdict('restart-needs-reuseaddr', 'confirmed', `With ${n} TIME-WAIT socket(s) on the port, a restart without SO_REUSEADDR failed (${outcomeText(none.attempt)}); with SO_REUSEADDR on both old and new listener it bound, listened and accepted a connection.${lateText}`);
        } else {
          ctx.verdict('restart-needs-reuseaddr', 'refuted', `With ${n} TIME-WAIT socket(s) on the port: ${describe(none)}; ${describe(ra)}.${lateText}`);
        }
      }
    }
    {
      const rp = cell('reuseport', 'reuseport');
      const both = cell('both', 'both');
      // every restart whose new listener had SO_REUSEPORT: where did it fail, and had the old listener it too?
      const withRp = cells.filter((c) => flags(c.next).reuseport && c.leftovers === n);
      const failed = withRp.filter((c) => !succeeded(c.attempt));
      const failedDespite = failed.filter((c) => flags(c.old).reuseport);
      const where =
        failed.length === 0
          ? ' Every new listener with SO_REUSEPORT bound, whatever the old one had.'
          : failedDespite.length === 0
            ? ` It failed only where the old listener lacked SO_REUSEPORT (${failed.map(describe).join('; ')}).`
            : ` It failed where the old listener lacked it (${failed.filter((c) => !flags(c.old).reuseport).map(describe).join('; ') || 'none'}) and also where it had it (${failedDespite.map(describe).join('; ')}).`;
      if (!rp) {
        ctx.verdict('reuseport-not-over-time-wait', 'inconclusive', 'needs the reuseport->reuseport combination with TIME-WAIT in the snapshot');
      } else if (succeeded(rp.attempt)) {
        ctx.verdict('reuseport-not-over-time-wait', 'refuted', `SO_REUSEPORT alone bound over ${n} TIME-WAIT socket(s) left by a listener that also had SO_REUSEPORT (${describe(rp)}${both ? `; ${describe(both)}` : ''}).${where}`);
      } else if (both && succeeded(both.attempt)) {
        ctx.verdict('reuseport-not-over-time-wait', 'confirmed', `SO_REUSEPORT alone failed over ${n} TIME-WAIT socket(s) (${describe(rp)}) while setting both worked (${describe(both)}).`);
      } else {
        ctx.verdict('reuseport-not-over-time-wait', 'inconclusive', `${describe(rp)}; ${describe(both)}`);
      }
    }
    {
      const tw = cell('reuseaddr', 'reuseaddr');
      const rows = others.filter((o) => o.next === 'reuseaddr');
      const seen = rows.filter((o) => o.leftovers >= 1);
      const listenRow = seen.find((o) => o.state === 'LISTEN');
      const nonListen = seen.filter((o) => o.state !== 'LISTEN');
      const text = (o: (typeof rows)[number]) => `${o.state}: ${outcomeText(o.attempt)}`;
      if (!tw || !succeeded(tw.attempt) || seen.length !== rows.length) {
        ctx.verdict('reuseaddr-only-time-wait', 'inconclusive', `needs SO_REUSEADDR to work over TIME-WAIT (${describe(tw)}) and every other state present in the snapshot (seen: ${seen.map((o) => o.state).join(', ') || 'none'})`);
      } else {
        const blocked = nonListen.filter((o) => !succeeded(o.attempt));
        const passed = nonListen.filter((o) => succeeded(o.attempt));
        const detail = `With SO_REUSEADDR on old and new listener: TIME-WAIT: ok; ${seen.map(text).join('; ')}.`;
        if (passed.length === 0 && listenRow && !succeeded(listenRow.attempt)) {
          ctx.verdict('reuseaddr-only-time-wait', 'confirmed', detail);
        } else if (listenRow && !succeeded(listenRow.attempt) && blocked.length === 0) {
          ctx.verdict('reuseaddr-only-time-wait', 'partly', `${detail} Only a live LISTEN socket blocks the restart; connections in ${passed.map((o) => o.state).join(', ')} do not.`);
        } else {
          ctx.verdict('reuseaddr-only-time-wait', listenRow && succeeded(listenRow.attempt) ? 'refuted' : 'partly', detail);
        }
      }
    }
  },
});
