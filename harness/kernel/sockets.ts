// Sockets for labs: listeners with exactly the options asked for (made outside libuv, read back from the
// kernel), clients from Node's net module, and the ways a connection can be closed.
import net from 'node:net';
import { once } from 'node:events';
import { WaitTimeout } from '../errors.ts';
import { deadline } from './pace.ts';
import {
  SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SyscallError, bindTo, closeFd, getIntOption,
  listenOn, setIntOption, tcpSocket,
} from './ffi.ts';

export interface ListenerOptions {
  host?: string;
  port: number;
  reuseaddr?: boolean;
  reuseport?: boolean;
  backlog?: number;
}

/** What one attempt to open a listener did, step by step, as the kernel answered. */
export interface BindAttempt {
  host: string;
  port: number;
  requested: { reuseaddr: boolean; reuseport: boolean };
  /** the options as getsockopt read them back before bind */
  kernel: { reuseaddr: boolean; reuseport: boolean };
  /** 'ok' or the errno name bind(2) failed with */
  bind: string;
  /** 'ok', the errno name listen(2) failed with, or 'not tried' after a failed bind */
  listen: string;
  /** the listening fd when both succeeded (the caller owns it) */
  fd?: number;
  /** the backlog passed to listen(2) */
  backlog: number;
}

function errnoOf(err: unknown): string {
  if (err instanceof SyscallError) return err.code;
  throw err;
}

/** socket → setsockopt → getsockopt → bind → listen, recording each answer; the fd is closed unless it listens. */
export function tryListen(o: ListenerOptions): BindAttempt {
  const host = o.host ?? '127.0.0.1';
  const requested = { reuseaddr: !!o.reuseaddr, reuseport: !!o.reuseport };
  const fd = tcpSocket(host.includes(':') ? 6 : 4);
  const attempt: BindAttempt = { host, port: o.port, requested, kernel: { reuseaddr: false, reuseport: false }, bind: 'not tried', listen: 'not tried', backlog: o.backlog ?? 511 };
  try {
    setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, requested.reuseaddr ? 1 : 0);
    setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, requested.reuseport ? 1 : 0);
    attempt.kernel = readReuse(fd);
    try {
      bindTo(fd, host, o.port);
      attempt.bind = 'ok';
    } catch (e) {
      attempt.bind = errnoOf(e);
      return attempt;
    }
    try {
      listenOn(fd, attempt.backlog);
      attempt.listen = 'ok';
      attempt.fd = fd;
    } catch (e) {
      attempt.listen = errnoOf(e);
    }
    return attempt;
  } finally {
    if (attempt.fd === undefined) closeFd(fd);
  }
}

/** SO_REUSEADDR / SO_REUSEPORT as the kernel holds them for this fd. */
export function readReuse(fd: number): { reuseaddr: boolean; reuseport: boolean } {
  return {
    reuseaddr: getIntOption(fd, SOL_SOCKET, SO_REUSEADDR) !== 0,
    reuseport: getIntOption(fd, SOL_SOCKET, SO_REUSEPORT) !== 0,
  };
}

/** The fd behind a Node socket or server (Node does not expose it publicly; libuv keeps it in _handle). */
export function fdOf(x: net.Socket | net.Server): number {
  const fd = (x as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no file descriptor (closed, or not a TCP handle)');
  return fd;
}

/** How long nextConnection waits by default before giving up. */
const NEXT_CONNECTION_MS = 30_000;

/** A listener made with tryListen and then handed to Node, so connections arrive as net.Socket. */
export interface Listener {
  server: net.Server;
  attempt: BindAttempt;
  connections: net.Socket[];
  /**
   * Resolves with the next accepted connection; rejects with WaitTimeout when none comes within timeoutMs
   * (default 30 s, stretched on a slow machine: pace.ts), so a handshake that died cannot hang a lab.
   */
  nextConnection(timeoutMs?: number): Promise<net.Socket>;
  close(): Promise<void>;
}

/** Open a listener with exact options and hand it to Node; throws if bind or listen fails. */
export async function listen(o: ListenerOptions & { allowHalfOpen?: boolean }): Promise<Listener> {
  const attempt = tryListen(o);
  if (attempt.fd === undefined) {
    throw new Error(`listen on ${attempt.host}:${o.port} failed: bind ${attempt.bind}, listen ${attempt.listen}`);
  }
  return adopt(attempt, o.allowHalfOpen ?? false);
}

/** Give a listening fd from tryListen to a net.Server (libuv keeps the options the kernel already has). */
export async function adopt(attempt: BindAttempt, allowHalfOpen = false): Promise<Listener> {
  if (attempt.fd === undefined) throw new Error(`no listening fd to adopt on port ${attempt.port}`);
  const server = net.createServer({ allowHalfOpen });
  const connections: net.Socket[] = [];
  // accepted connections no nextConnection has taken yet, and the calls waiting for one, both oldest first
  const unclaimed: net.Socket[] = [];
  const waiting: ((s: net.Socket) => void)[] = [];
  server.on('connection', (s) => {
    connections.push(s);
    s.on('error', () => {}); // labs observe errors through their own listeners; never crash the runner
    const w = waiting.shift();
    if (w) w(s);
    else unclaimed.push(s);
  });
  // the backlog again: Node calls listen(2) on an adopted fd too, with 511 unless told otherwise
  server.listen({ fd: attempt.fd, backlog: attempt.backlog });
  await once(server, 'listening');
  return {
    server,
    attempt,
    connections,
    nextConnection(timeoutMs = NEXT_CONNECTION_MS) {
      const ready = unclaimed.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const limit = deadline(timeoutMs);
        const take = (s: net.Socket) => {
          clearTimeout(timer);
          resolve(s);
        };
        // a call that gives up leaves the queue: the next connection goes to the next call
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(take), 1);
          reject(new WaitTimeout(`no connection accepted on port ${attempt.port} after ${limit} ms`));
        }, limit);
        timer.unref();
        waiting.push(take);
      });
    },
    close: () => closeServer(server),
  };
}

/**
 * Stop listening. The listening fd is closed at once (libuv closes it synchronously); accepted connections
 * stay as they are. (server.close()'s callback would wait for every connection to end, so it is not awaited.)
 */
export async function closeServer(server: net.Server): Promise<void> {
  if (server.listening) server.close();
}

/** Connect with Node's net module and resolve once connected (rejects with the errno error). */
export function connect(port: number, host = '127.0.0.1', opts: { allowHalfOpen?: boolean; localPort?: number } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, allowHalfOpen: opts.allowHalfOpen ?? false, localPort: opts.localPort });
    s.once('connect', () => {
      s.off('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Close actively: send our FIN (socket.end()); with Node's default allowHalfOpen=false the peer answers with its own FIN. */
export function closeActively(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
    s.end();
    s.resume(); // read to EOF so the peer's FIN is consumed and 'close' fires
  });
}

/** A connected loopback pair (listener, client end, accepted server end), all closed by the lab's teardown. */
export interface Pair {
  listener: Listener;
  client: net.Socket;
  server: net.Socket;
  clientPort: number;
  serverPort: number;
}

/**
 * Listen on `port`, connect once and accept: the connection most state labs start from. With allowHalfOpen
 * (default true here) neither end answers a FIN with its own, so the lab decides every close.
 */
export async function openPair(
  defer: (fn: () => unknown) => void,
  port: number,
  o: { host?: string; allowHalfOpen?: boolean; reuseaddr?: boolean } = {},
): Promise<Pair> {
  const host = o.host ?? '127.0.0.1';
  const allowHalfOpen = o.allowHalfOpen ?? true;
  const listener = await listen({ host, port, allowHalfOpen, reuseaddr: o.reuseaddr ?? false });
  defer(() => listener.close());
  const client = await connect(port, host, { allowHalfOpen });
  defer(() => client.destroy());
  const server = await listener.nextConnection();
  defer(() => server.destroy());
  return { listener, client, server, clientPort: client.localPort!, serverPort: port };
}
