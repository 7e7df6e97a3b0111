// Sockets that live in a chosen network namespace: the fd is made while the main thread is switched into it
// (socket(2) binds a socket to the caller's namespace for life), then handed to Node.
import net from 'node:net';
import { SOL_SOCKET, SO_REUSEADDR, setIntOption, tcpSocket } from './ffi.ts';
import { adopt, tryListen, type Listener, type ListenerOptions } from './sockets.ts';
import type { Netns } from './topology.ts';

/** A listener with exact options inside `ns` (tryListen runs there), handed to a net.Server. */
export async function listenIn(ns: Netns, o: ListenerOptions & { allowHalfOpen?: boolean }): Promise<Listener> {
  const attempt = ns.within(() => tryListen(o));
  if (attempt.fd === undefined) {
    throw new Error(`listen on ${attempt.host}:${o.port} in ${ns.name} failed: bind ${attempt.bind}, listen ${attempt.listen}`);
  }
  return adopt(attempt, o.allowHalfOpen ?? false);
}

export interface ConnectFromOptions {
  allowHalfOpen?: boolean;
  localPort?: number;
  localAddress?: string;
  /** SO_REUSEADDR on the client socket before bind (default off) */
  reuseaddr?: boolean;
}

/** A net.Socket whose fd was made in `ns`, not yet connected (connect it with socket.connect). */
export function socketIn(ns: Netns, o: ConnectFromOptions = {}): net.Socket {
  const fd = ns.within(() => tcpSocket());
  if (o.reuseaddr) setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  return new net.Socket({ fd, allowHalfOpen: o.allowHalfOpen ?? false, readable: true, writable: true });
}

/** Connect from inside `ns`; resolves once connected, rejects with Node's errno error (err.code = EADDRNOTAVAIL ...). */
export function connectFrom(ns: Netns, port: number, host: string, o: ConnectFromOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let s: net.Socket;
    try {
      s = socketIn(ns, o);
    } catch (err) {
      reject(err);
      return;
    }
    const fail = (err: Error) => {
      s.destroy();
      reject(err);
    };
    s.once('error', fail);
    s.once('connect', () => {
      s.off('error', fail);
      s.on('error', () => {});
      resolve(s);
    });
    s.connect({ port, host, ...(o.localPort !== undefined ? { localPort: o.localPort, localAddress: o.localAddress ?? '0.0.0.0' } : {}) });
  });
}
