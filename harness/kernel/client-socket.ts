// Client sockets with exact options, outside libuv (which sets SO_REUSEADDR on every socket it binds): socket,
// setsockopt, bind to a chosen local port, and a blocking connect on loopback, each step's errno kept as data. How a
// lab asks "may a new connection from this port, with these options, take over the old one's TIME-WAIT?".
import koffi from 'koffi';
import { errnoName, sockaddr, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from './ffi.ts';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

let lib: ReturnType<typeof bind> | undefined;
function bind() {
  const libc = koffi.load('libc.so.6');
  return {
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
    bind: libc.func('int bind(int fd, void *addr, uint32_t len)'),
    connect: libc.func('int connect(int fd, void *addr, uint32_t len)'),
    getsockname: libc.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *len)'),
    close: libc.func('int close(int fd)'),
  };
}
function libc() {
  lib ??= bind();
  return lib;
}

export interface ClientSocketOptions {
  reuseaddr?: boolean;
  reuseport?: boolean;
  /** bind to this local port first (0 or absent: let connect() pick one) */
  localPort?: number;
}

/** One client socket's way through socket/setsockopt/bind/connect: 'ok' or the errno of the step that failed. */
export interface ClientAttempt {
  bind: string;
  connect: string;
  /** the local port it ended up with (when bound or connected) */
  localPort?: number;
  fd?: number;
}

const errno = () => errnoName(koffi.errno());

/**
 * Make an IPv4 TCP socket with the options, bind it (when a local port is asked for) and connect it to host:port
 * (blocking: on loopback the handshake is done or refused before this returns). A socket whose bind or connect
 * failed is closed; a connected one is returned open (close it with closeClient).
 */
export function connectClient(host: string, port: number, o: ClientSocketOptions = {}): ClientAttempt {
  const fd = libc().socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) return { bind: `socket: ${errno()}`, connect: 'not tried' };
  const on = Buffer.alloc(4);
  on.writeInt32LE(1, 0);
  if (o.reuseaddr) libc().setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, on, 4);
  if (o.reuseport) libc().setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, on, 4);
  let bound = 'not asked';
  if (o.localPort) {
    const addr = sockaddr(host, o.localPort);
    bound = libc().bind(fd, addr, addr.length) === 0 ? 'ok' : errno();
    if (bound !== 'ok') {
      libc().close(fd);
      return { bind: bound, connect: 'not tried' };
    }
  }
  const to = sockaddr(host, port);
  const connected = libc().connect(fd, to, to.length) === 0 ? 'ok' : errno();
  if (connected !== 'ok') {
    libc().close(fd);
    return { bind: bound, connect: connected };
  }
  const me = Buffer.alloc(16);
  libc().getsockname(fd, me, [16]);
  return { bind: bound, connect: 'ok', localPort: me.readUInt16BE(2), fd };
}

/** close(2) a client socket made by connectClient (the active close: FIN, then FIN-WAIT and TIME-WAIT). */
export function closeClient(fd: number): void {
  libc().close(fd);
}
