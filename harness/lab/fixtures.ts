// Ready-made connection states, the set-ups every lab would otherwise rewrite: a connected pair, and N
// connections left in a chosen state on a chosen side (proven by ss before the fixture returns). IPv4 or IPv6.
import type net from 'node:net';
import { filterSockets } from '../evidence/census.ts';
import { readSockets } from '../evidence/read.ts';
import type { SsState } from '../evidence/ss.ts';
import { churnConnections } from '../kernel/churn.ts';
import { counterDelta, formatDelta, LOSS_COUNTERS, readCounters, type Counters } from '../kernel/counters.ts';
import { closeActively, connect, listen, openPair, type Listener, type Pair } from '../kernel/sockets.ts';
import type { Netns } from '../kernel/topology.ts';
import type { LabContext } from './context.ts';
import { describeEnd, endsOf, stateIn, type End } from './endpoints.ts';

export const LOOPBACK = '127.0.0.1';
export const LOOPBACK6 = '::1';
export type Family = 4 | 6;

/** The loopback address of a family. */
export function loopback(family: Family = 4): string {
  return family === 6 ? LOOPBACK6 : LOOPBACK;
}

export interface PairOptions {
  family?: Family;
  /** default true: neither end answers a FIN with its own, so the lab decides every close */
  allowHalfOpen?: boolean;
  reuseaddr?: boolean;
}

/** A connected loopback pair on a fresh port, with its two ends for ss; everything is closed at teardown. */
export async function pair(ctx: LabContext, o: PairOptions = {}): Promise<Pair & { host: string; ends: { client: End; server: End } }> {
  const host = loopback(o.family);
  const p = await openPair((fn) => ctx.defer(fn), ctx.port(), { host, allowHalfOpen: o.allowHalfOpen, reuseaddr: o.reuseaddr });
  return { ...p, host, ends: endsOf(p.clientPort, p.serverPort) };
}

/** States `leave` can put connections in (LISTEN: only the listener, no connection). */
export type LeftState = 'TIME-WAIT' | 'CLOSE-WAIT' | 'FIN-WAIT-2' | 'ESTAB' | 'LISTEN';

export interface LeaveOptions {
  /** whose socket is left in the state (default server) */
  on?: 'client' | 'server';
  family?: Family;
  /** the port to listen on (default a fresh one) */
  port?: number;
  /** listener options (made outside libuv: exactly these) */
  reuseaddr?: boolean;
  reuseport?: boolean;
  /** close the listener once the state is reached (default false; LISTEN keeps it anyway) */
  closeListener?: boolean;
  timeoutMs?: number;
}

export interface Left {
  port: number;
  host: string;
  listener: Listener;
  /** the `on` side's end of each connection, in the state asked for */
  ends: End[];
  /** how many of them ss showed in the state (the read that ended the wait; n, or 0 for LISTEN) */
  seen: number;
  clients: net.Socket[];
  servers: net.Socket[];
}

/**
 * Leave n connections with the `on` side in `state`, and wait until ss shows all n there:
 * TIME-WAIT = that side closes first; FIN-WAIT-2 = it closes and the peer never does; CLOSE-WAIT = the peer
 * closes and it never does; ESTAB = connected; LISTEN = only the listener. Sockets are closed at teardown.
 */
export async function leave(ctx: LabContext, n: number, state: LeftState, o: LeaveOptions = {}): Promise<Left> {
  const on = o.on ?? 'server';
  const host = loopback(o.family);
  const port = o.port ?? ctx.port();
  const halfOpen = (side: 'client' | 'server') => (state === 'CLOSE-WAIT' && side === on) || (state === 'FIN-WAIT-2' && side !== on);
  const listener = await listen({ host, port, reuseaddr: o.reuseaddr ?? false, reuseport: o.reuseport ?? false, allowHalfOpen: halfOpen('server') });
  ctx.defer(() => listener.close());
  const clients: net.Socket[] = [];
  const servers: net.Socket[] = [];
  const ends: End[] = [];
  const errors: string[] = [];
  // this namespace's counters before the connections (a timed-out wait says which of them moved)
  const before = await readCounters().catch(() => undefined);
  for (let i = 0; state !== 'LISTEN' && i < n; i++) {
    const client = await connect(port, host, { allowHalfOpen: halfOpen('client') });
    ctx.defer(() => client.destroy());
    const server = await listener.nextConnection();
    ctx.defer(() => server.destroy());
    clients.push(client);
    servers.push(server);
    const e = endsOf(client.localPort!, port);
    // a reset connection still ends in 'close': keep its error for a timed-out wait's message
    for (const [s, side] of [[client, 'client'], [server, 'server']] as const) s.once('error', (err: NodeJS.ErrnoException) => errors.push(`${side} :${e.client.localPort} ${err.code ?? err.message}`));
    ends.push(on === 'server' ? e.server : e.client);
    const mine = on === 'server' ? server : client;
    const peer = on === 'server' ? client : server;
    if (state === 'TIME-WAIT') await closeActively(mine);
    else if (state === 'FIN-WAIT-2') mine.end();
    else if (state === 'CLOSE-WAIT') peer.end();
  }
  let seen = 0;
  if (state !== 'LISTEN') {
    const want = (s: { local: string; peer: string }) => ends.some((e) => s.local.endsWith(`:${e.localPort}`) && s.peer.endsWith(`:${e.peerPort}`));
    const proof = await ctx.waitSs(`${n} x ${state} on the ${on} side of :${port}`, (read) => filterSockets(read, { state: state as SsState }).filter(want).length >= n, {
      timeoutMs: o.timeoutMs ?? 3000,
      filter: { port, state: state as SsState },
      focus: { port },
      describe: async () => `${await missingEnds(ctx, port, ends, state)}; socket errors: ${errors.join(', ') || 'none'}; counters since the first connection: ${await moved(before)}`,
    });
    seen = filterSockets(proof.sockets, { state: state as SsState }).filter(want).length;
  }
  if (o.closeListener) await listener.close();
  return { port, host, listener, ends, seen, clients, servers };
}

/** What the loss counters did since `before` (resets, retransmissions, TIME-WAIT overflow). */
async function moved(before: Counters | undefined): Promise<string> {
  const after = before && (await readCounters().catch(() => undefined));
  return after ? formatDelta(counterDelta(before, after, LOSS_COUNTERS)) : 'not readable';
}

/** For a timed-out leave(): how many ends reached the state, and where each of the others is (a read of every socket on the port). */
async function missingEnds(ctx: LabContext, port: number, ends: readonly End[], state: LeftState): Promise<string> {
  const read = await readSockets(ctx.host, { ports: [port] }).catch(() => undefined);
  if (!read) return 'ss could not be read again';
  const others = ends.filter((e) => stateIn(read, e) !== state);
  const ports = new Set(ends.map((e) => e.localPort)).size;
  return `${ends.length - others.length} of ${ends.length} ends in ${state} (${ports} distinct local ports); the others: ${others.map((e) => describeEnd(read, e)).join(' | ')}`;
}

export interface ChurnOptions {
  /** who sends the first FIN (default client); the other side answers with its own at once */
  closer?: 'client' | 'server';
  /** connections open at once: each batch is connected and accepted before any of it is used (default 1) */
  inFlight?: number;
  /** sent by the client, read in full by the server */
  request?: string | Buffer;
  /** sent by the server once it has the request; read by the client before it closes */
  response?: string | Buffer;
  /** the client's namespace (default: the runner's own) */
  from?: Netns;
  /** the address to connect to (default: the listener's own; a wildcard listener: loopback) */
  host?: string;
  /** stop at the first connect() that fails (its errno is in `failure`) instead of throwing */
  untilConnectFails?: boolean;
  /** stop between slices when this aborts (pass ctx.signal) */
  signal?: AbortSignal;
}

export interface Churned {
  /** each connection's client port, in order */
  ports: number[];
  /** errno name of the connect() that ended the churn (untilConnectFails) */
  failure?: string;
  ms: number;
}

/**
 * Open and close `n` short connections to a listener, in plain system calls (harness/kernel/churn.ts: what a C
 * loop does, at ~the speed of one), `inFlight` at a time; `closer` sends the first FIN and the other side
 * answers at once. Resolves once every closer has read its peer's FIN (it is in TIME-WAIT and the other side
 * has closed). The churn accepts from the listener itself: nothing else may connect to it meanwhile.
 */
export async function churn(listener: Listener, n: number, o: 'client' | 'server' | ChurnOptions = 'client'): Promise<Churned> {
  const opts: ChurnOptions = typeof o === 'string' ? { closer: o } : o;
  const own = listener.attempt.host;
  const host = opts.host ?? (own === '0.0.0.0' ? LOOPBACK : own === '::' ? LOOPBACK6 : own);
  const bytes = (x: string | Buffer | undefined) => (typeof x === 'string' ? Buffer.from(x) : x);
  const fd = listener.attempt.fd;
  if (fd === undefined) throw new Error(`churn: the listener on port ${listener.attempt.port} has no fd`);
  const r = await churnConnections({
    listenFd: fd,
    host,
    port: listener.attempt.port,
    n,
    closer: opts.closer ?? 'client',
    inFlight: opts.inFlight,
    request: bytes(opts.request),
    response: bytes(opts.response),
    untilConnectFails: opts.untilConnectFails,
    within: opts.from?.within,
    signal: opts.signal,
  });
  return { ports: r.ports, ...(r.failure ? { failure: r.failure } : {}), ms: r.ms };
}
