// Client sockets with exact options, outside libuv (which sets SO_REUSEADDR on every socket it binds): socket,
// setsockopt, bind to a chosen local port, and a blocking connect on loopback, each step's errno kept as data. How a
// lab asks "may a new connection from this port, with these options, take over the old one's TIME-WAIT?".
import { bindTo, closeFd, connectTo, getFdFlags, localPortOf, O_NONBLOCK, setFdFlags, setIntOption, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SyscallError, tcpSocket } from './ffi.ts';

export interface ClientSocketOptions {
  reuseaddr?: boolean;
  reuseport?: boolean;
  /** bind to this local port first (0 or absent: let connect() pick one) */
  localPort?: number;
}

/** One client socket's way through bind and connect: 'ok' or the errno of the step that failed. */
export interface ClientAttempt {
  bind: string;
  connect: string;
  /** the local port it ended up with (when connected) */
  localPort?: number;
  fd?: number;
}

/** 'ok', or the errno name a libc call failed with. */
function step(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof SyscallError) return err.code;
    throw err;
  }
}

/**
 * Make an IPv4 TCP socket with the options, bind it (when a local port is asked for) and connect it to host:port
 * (blocking: on loopback the handshake is done or refused before this returns). A socket whose bind or connect
 * failed is closed; a connected one is returned open (close it with closeClient).
 */
export function connectClient(host: string, port: number, o: ClientSocketOptions = {}): ClientAttempt {
  const fd = tcpSocket(4);
  setFdFlags(fd, getFdFlags(fd) & ~O_NONBLOCK);
  if (o.reuseaddr) setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (o.reuseport) setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  const bound = o.localPort ? step(() => bindTo(fd, host, o.localPort!)) : 'not asked';
  const connected = bound === 'ok' || bound === 'not asked' ? step(() => connectTo(fd, host, port)) : 'not tried';
  if (connected !== 'ok') {
    closeFd(fd);
    return { bind: bound, connect: connected };
  }
  return { bind: bound, connect: 'ok', localPort: localPortOf(fd), fd };
}

/** close(2) a client socket made by connectClient (the active close: FIN, then FIN-WAIT and TIME-WAIT). */
export function closeClient(fd: number): void {
  closeFd(fd);
}
