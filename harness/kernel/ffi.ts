// Direct libc calls (through koffi) for what Node's net module cannot do: make a socket outside libuv,
// set or read socket options libuv hides (SO_REUSEADDR, SO_REUSEPORT, SO_LINGER, TCP_LINGER2 ...), prctl.
import koffi from 'koffi';
import { isIPv6 } from 'node:net';
import { constants as osConstants } from 'node:os';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const IPPROTO_TCP = 6;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_LINGER2 = 8;
export const TCP_USER_TIMEOUT = 18;
export const SO_ERROR = 4;
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
const F_GETFL = 3;
const F_SETFL = 4;
export const O_NONBLOCK = 0o4000;
const PR_SET_PDEATHSIG = 1;
export const CLONE_NEWNET = 0x40000000;

let lib: ReturnType<typeof bindLibc> | undefined;

function bindLibc() {
  const libc = koffi.load('libc.so.6');
  return {
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
    getsockopt: libc.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)'),
    bind: libc.func('int bind(int fd, void *addr, uint32_t len)'),
    connect: libc.func('int connect(int fd, void *addr, uint32_t len)'),
    getsockname: libc.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *len)'),
    listen: libc.func('int listen(int fd, int backlog)'),
    close: libc.func('int close(int fd)'),
    shutdown: libc.func('int shutdown(int fd, int how)'),
    prctl: libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
    setns: libc.func('int setns(int fd, int nstype)'),
    accept4: libc.func('int accept4(int fd, void *addr, void *len, int flags)'),
    recv: libc.func('long recv(int fd, _Out_ uint8_t *buf, unsigned long len, int flags)'),
    send: libc.func('long send(int fd, uint8_t *buf, unsigned long len, int flags)'),
    sendto: libc.func('long sendto(int fd, uint8_t *buf, unsigned long len, int flags, uint8_t *addr, uint32_t addrlen)'),
    fcntl: libc.func('int fcntl(int fd, int cmd, int arg)'),
    unshare: libc.func('int unshare(int flags)'),
  };
}

/** The libc calls the harness makes from the main thread (bound on first use; churn-libc.ts and the capture worker keep their own). */
export function libc(): ReturnType<typeof bindLibc> {
  lib ??= bindLibc();
  return lib;
}

// first name wins where two share a number: EAGAIN (not EWOULDBLOCK), EDEADLK, ENOTSUP/EOPNOTSUPP as Node lists them
const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);

/** errno number → its symbolic name (EADDRINUSE ...). */
export function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}

/** A failed libc call, carrying errno and its name (code), like Node's own system errors. */
export class SyscallError extends Error {
  constructor(readonly syscall: string, readonly errno: number) {
    super(`${syscall} failed: ${errnoName(errno)}`);
    this.name = 'SyscallError';
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

function check(syscall: string, ret: number): number {
  if (ret < 0) throw new SyscallError(syscall, koffi.errno());
  return ret;
}

/** Encode a sockaddr_in / sockaddr_in6 for bind(). */
export function sockaddr(host: string, port: number): Buffer {
  if (isIPv6(host)) {
    const b = Buffer.alloc(28);
    b.writeUInt16LE(AF_INET6, 0);
    b.writeUInt16BE(port, 2);
    ipv6Bytes(host).copy(b, 8);
    return b;
  }
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  host.split('.').forEach((octet, i) => b.writeUInt8(Number(octet), 4 + i));
  return b;
}

function ipv6Bytes(host: string): Buffer {
  const [head, tail = ''] = host.includes('::') ? host.split('::') : [host, undefined as unknown as string];
  const h = head ? head.split(':') : [];
  const t = host.includes('::') && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

/** socket(2): a non-blocking, close-on-exec TCP socket that libuv never touched. */
export function tcpSocket(family: 4 | 6 = 4): number {
  return check('socket', libc().socket(family === 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

/** setsockopt(2) with an int value. */
export function setIntOption(fd: number, level: number, name: number, value: number): void {
  const v = Buffer.alloc(4);
  v.writeInt32LE(value, 0);
  check('setsockopt', libc().setsockopt(fd, level, name, v, 4));
}

/** getsockopt(2) of an int value: what the kernel really holds for this socket. */
export function getIntOption(fd: number, level: number, name: number): number {
  const v = Buffer.alloc(4);
  const len = [4];
  check('getsockopt', libc().getsockopt(fd, level, name, v, len));
  return v.readInt32LE(0);
}

/** SO_LINGER {onoff, seconds}. */
export function setLinger(fd: number, onoff: boolean, seconds: number): void {
  const v = Buffer.alloc(8);
  v.writeInt32LE(onoff ? 1 : 0, 0);
  v.writeInt32LE(seconds, 4);
  check('setsockopt', libc().setsockopt(fd, SOL_SOCKET, SO_LINGER, v, 8));
}

/** Read SO_LINGER back as {onoff, seconds}. */
export function getLinger(fd: number): { onoff: boolean; seconds: number } {
  const v = Buffer.alloc(8);
  const len = [8];
  check('getsockopt', libc().getsockopt(fd, SOL_SOCKET, SO_LINGER, v, len));
  return { onoff: v.readInt32LE(0) !== 0, seconds: v.readInt32LE(4) };
}

/** bind(2) to host:port. */
export function bindTo(fd: number, host: string, port: number): void {
  const addr = sockaddr(host, port);
  check('bind', libc().bind(fd, addr, addr.length));
}

/** connect(2); on a blocking socket to loopback the handshake is done (or refused) when it returns. */
export function connectTo(fd: number, host: string, port: number): void {
  const addr = sockaddr(host, port);
  check('connect', libc().connect(fd, addr, addr.length));
}

/** The local port of a bound or connected socket (getsockname). */
export function localPortOf(fd: number): number {
  const addr = Buffer.alloc(28);
  check('getsockname', libc().getsockname(fd, addr, [28]));
  return addr.readUInt16BE(2);
}

/** listen(2). */
export function listenOn(fd: number, backlog: number): void {
  check('listen', libc().listen(fd, backlog));
}

/** close(2) of an fd that no Node handle owns. */
export function closeFd(fd: number): void {
  check('close', libc().close(fd));
}

/** shutdown(2): 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR. */
export function shutdownFd(fd: number, how: 0 | 1 | 2): void {
  check('shutdown', libc().shutdown(fd, how));
}

/** Ask the kernel to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG). */
export function dieWithParent(signal = 9): void {
  check('prctl', libc().prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0));
}

/** setns(2): move the calling thread (Node's main thread) into the namespace behind fd (topologies). */
export function setNamespace(fd: number, nstype = CLONE_NEWNET): void {
  check('setns', libc().setns(fd, nstype));
}

/** unshare(2): give the calling thread new namespaces (CLONE_NEWNET: a fresh, empty network namespace). */
export function unshareNamespace(flags = CLONE_NEWNET): void {
  check('unshare', libc().unshare(flags));
}

/** accept4(2) without the peer address; flags e.g. SOCK_NONBLOCK | SOCK_CLOEXEC. Returns the new fd. */
export function acceptFd(fd: number, flags = SOCK_NONBLOCK | SOCK_CLOEXEC): number {
  return check('accept4', libc().accept4(fd, null, null, flags));
}

/** recv(2) into buf: bytes read (0 = EOF); throws SyscallError (EAGAIN, ECONNRESET ...). */
export function recvFd(fd: number, buf: Buffer, flags = 0): number {
  return check('recv', Number(libc().recv(fd, buf, buf.length, flags)));
}

/** send(2) of buf: bytes queued; throws SyscallError (EAGAIN, EPIPE, ECONNRESET ...). */
export function sendFd(fd: number, buf: Buffer, flags = 0): number {
  return check('send', Number(libc().send(fd, buf, buf.length, flags)));
}

/** fcntl(F_GETFL). */
export function getFdFlags(fd: number): number {
  return check('fcntl', libc().fcntl(fd, F_GETFL, 0));
}

/** fcntl(F_SETFL). */
export function setFdFlags(fd: number, flags: number): void {
  check('fcntl', libc().fcntl(fd, F_SETFL, flags));
}

/** SO_RCVTIMEO / SO_SNDTIMEO as a struct timeval of `ms` milliseconds. */
export function setTimeoutOption(fd: number, name: typeof SO_RCVTIMEO | typeof SO_SNDTIMEO, ms: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  check('setsockopt', libc().setsockopt(fd, SOL_SOCKET, name, tv, 16));
}
