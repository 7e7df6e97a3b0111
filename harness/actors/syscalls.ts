// Raw socket syscalls an actor makes on the fd behind a Node socket (through harness/ffi.ts), reported as
// SyscallResult data, so a lab can say exactly what recv(2)/send(2) returned (bytes, 0 = EOF, ECONNRESET,
// EPIPE, EAGAIN) instead of Node's view.
import type { SyscallResult } from './protocol.ts';
import { MSG_DONTWAIT, MSG_NOSIGNAL, O_NONBLOCK, SyscallError, getFdFlags, recvFd, sendFd, setFdFlags } from '../kernel/ffi.ts';

/** Run one syscall and turn its outcome into data: ret >= 0, or -1 with the errno name (other errors throw). */
function result(call: () => number, timed = false): SyscallResult {
  const t0 = Date.now();
  let r: SyscallResult;
  try {
    r = { ret: call() };
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    r = { ret: -1, errno: err.code };
  }
  if (timed) r.elapsedMs = Date.now() - t0;
  return r;
}

/** recv(2) without blocking: bytes read, 0 at EOF, or -1 with errno (EAGAIN when nothing is there). */
export function recvNow(fd: number, max: number): SyscallResult {
  return result(() => recvFd(fd, Buffer.alloc(Math.max(1, max)), MSG_DONTWAIT));
}

/** send(2) without blocking and without SIGPIPE: bytes queued or -1 with errno. */
export function sendNow(fd: number, bytes: number): SyscallResult {
  return result(() => sendFd(fd, Buffer.alloc(bytes, 0x61), MSG_DONTWAIT | MSG_NOSIGNAL));
}

/** Run fn with the fd in blocking mode (O_NONBLOCK cleared), then restore its flags. */
export function whileBlocking<T>(fd: number, fn: () => T): T {
  const flags = getFdFlags(fd);
  setFdFlags(fd, flags & ~O_NONBLOCK);
  try {
    return fn();
  } finally {
    setFdFlags(fd, flags);
  }
}

/** A blocking recv(2) (the fd must be blocking): returns after data, EOF, an error or SO_RCVTIMEO. */
export function recvBlocking(fd: number, max: number): SyscallResult {
  return result(() => recvFd(fd, Buffer.alloc(max)), true);
}

/** A blocking send(2) with MSG_NOSIGNAL (the fd must be blocking). */
export function sendBlocking(fd: number, buf: Buffer): SyscallResult {
  return result(() => sendFd(fd, buf, MSG_NOSIGNAL), true);
}
