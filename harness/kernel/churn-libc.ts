// The libc calls of the churn loop (churn-loop.ts), bound once: pointers are plain numbers (addresses in one
// block of memory from koffi.alloc), so koffi converts nothing but numbers on the hot path.
import koffi from 'koffi';

export const EINPROGRESS = 115;
export const EAGAIN = 11;
export const EINTR = 4;
export const SHUT_WR = 1;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;

// offsets in the churn's block of memory
export const PEER = 0; // sockaddr_in6 the accepted peer is written to
export const PEER_LEN = 32; // socklen_t
export const POLLFD = 40; // struct pollfd
export const ADDR = 48; // the listener's sockaddr
export const SCRATCH = 80; // read buffer
export const SCRATCH_LEN = 4096;
export const DATA = SCRATCH + SCRATCH_LEN; // the request, then the response

export type ChurnLibc = ReturnType<typeof bind>;
let lib: ChurnLibc | undefined;

function bind() {
  const libc = koffi.load('libc.so.6');
  return {
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    connect: libc.func('int connect(int fd, intptr_t addr, uint32_t len)'),
    accept4: libc.func('int accept4(int fd, intptr_t addr, intptr_t len, int flags)'),
    shutdown: libc.func('int shutdown(int fd, int how)'),
    read: libc.func('int read(int fd, intptr_t buf, unsigned long len)'),
    send: libc.func('int send(int fd, intptr_t buf, unsigned long len, int flags)'),
    close: libc.func('int close(int fd)'),
    poll: libc.func('int poll(intptr_t fds, unsigned long n, int timeout)'),
  };
}

/** The bound calls (bound on first use). */
export function churnLibc(): ChurnLibc {
  lib ??= bind();
  return lib;
}
