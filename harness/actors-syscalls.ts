// Raw socket syscalls an actor makes on the fd behind a Node socket (through koffi), so a lab can report
// exactly what recv(2)/send(2) returned (bytes, 0 = EOF, ECONNRESET, EPIPE, EAGAIN) instead of Node's view.
import koffi from 'koffi';
import { errnoName } from './ffi.ts';
import type { SyscallResult } from './actors-protocol.ts';

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
export const SO_ERROR = 4;
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
const SOL_SOCKET = 1;

let lib: ReturnType<typeof bind> | undefined;
function bind() {
  const libc = koffi.load('libc.so.6');
  return {
    recv: libc.func('long recv(int fd, _Out_ uint8_t *buf, unsigned long len, int flags)'),
    send: libc.func('long send(int fd, uint8_t *buf, unsigned long len, int flags)'),
    fcntl: libc.func('int fcntl(int fd, int cmd, int arg)'),
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
  };
}
const c = () => (lib ??= bind());

/** EAGAIN and EWOULDBLOCK are the same number on Linux; report the name the man pages use. */
const nameOf = (n: number) => (errnoName(n) === 'EWOULDBLOCK' ? 'EAGAIN' : errnoName(n));

function result(ret: number, t0?: number): SyscallResult {
  const r: SyscallResult = ret < 0 ? { ret: -1, errno: nameOf(koffi.errno()) } : { ret };
  if (t0 !== undefined) r.elapsedMs = Date.now() - t0;
  return r;
}

/** recv(2) without blocking: bytes read, 0 at EOF, or -1 with errno (EAGAIN when nothing is there). */
export function recvNow(fd: number, max: number): SyscallResult {
  return result(Number(c().recv(fd, Buffer.alloc(Math.max(1, max)), max, MSG_DONTWAIT)));
}

/** send(2) without blocking and without SIGPIPE: bytes queued or -1 with errno. */
export function sendNow(fd: number, bytes: number): SyscallResult {
  return result(Number(c().send(fd, Buffer.alloc(bytes, 0x61), bytes, MSG_DONTWAIT | MSG_NOSIGNAL)));
}

/** Set SO_RCVTIMEO / SO_SNDTIMEO (struct timeval). */
export function setTimeo(fd: number, which: number, ms: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  if (c().setsockopt(fd, SOL_SOCKET, which, tv, 16) < 0) throw new Error(`setsockopt(${which}) failed: ${errnoName(koffi.errno())}`);
}

/** Run fn with the fd in blocking mode (O_NONBLOCK cleared), then restore its flags. */
export function whileBlocking<T>(fd: number, fn: () => T): T {
  const flags = c().fcntl(fd, F_GETFL, 0);
  if (flags < 0) throw new Error(`fcntl(F_GETFL) failed: ${errnoName(koffi.errno())}`);
  c().fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  try {
    return fn();
  } finally {
    c().fcntl(fd, F_SETFL, flags);
  }
}

/** A blocking recv(2) (the fd must be blocking): returns after data, EOF, an error or SO_RCVTIMEO. */
export function recvBlocking(fd: number, max: number): SyscallResult {
  const t0 = Date.now();
  return result(Number(c().recv(fd, Buffer.alloc(max), max, 0)), t0);
}

/** A blocking send(2) with MSG_NOSIGNAL (the fd must be blocking). */
export function sendBlocking(fd: number, buf: Buffer): SyscallResult {
  const t0 = Date.now();
  return result(Number(c().send(fd, buf, buf.length, MSG_NOSIGNAL)), t0);
}
