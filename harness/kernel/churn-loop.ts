// The churn loop itself: one batch of short connections in plain system calls (socket, connect, accept4,
// optionally a request and a response, shutdown, read to EOF, close, read to EOF, close), the sequence a C
// program makes (scripts/churn.c is that program, for the bench). Driven in slices by churn.ts.
import koffi from 'koffi';
import { deadline } from './pace.ts';
import { isIPv6 } from 'node:net';
import { SyscallError, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, AF_INET, AF_INET6, MSG_NOSIGNAL, sockaddr } from './ffi.ts';
import {
  ADDR, DATA, EAGAIN, EINPROGRESS, EINTR, PEER, PEER_LEN, POLLFD, POLLIN, POLLOUT, SCRATCH, SCRATCH_LEN, SHUT_WR,
  churnLibc,
} from './churn-libc.ts';

export interface ChurnPlan {
  /** the listening fd the connections arrive on (non-blocking is fine); nothing else may accept from it meanwhile */
  listenFd: number;
  host: string;
  port: number;
  /** connections to open and close */
  n: number;
  /** who sends the first FIN; the other side answers with its own at once */
  closer: 'client' | 'server';
  /** connections opened (and accepted) before any of them is used: that many in flight at once (default 1) */
  inFlight?: number;
  /** sent by the client and read in full by the server before the close */
  request?: Buffer;
  /** sent by the server after the request; the client reads it before its own FIN */
  response?: Buffer;
  /** stop at the first connect() that fails and report its errno, instead of throwing */
  untilConnectFails?: boolean;
  /** run the client's socket() calls through this (a namespace's `within`: the sockets are made there) */
  within?: <T>(fn: () => T) => T;
  /** most milliseconds the event loop is held before the next slice (default 20) */
  sliceMs?: number;
  /** the longest any one step may wait for the kernel (default 5000 ms) */
  stepTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface ChurnResult {
  /** the client's local port of each connection, in order (read from accept4's peer address: no extra call) */
  ports: number[];
  /** errno name of the connect() that failed (untilConnectFails only) */
  failure?: string;
  ms: number;
}

export class ChurnLoop {
  private readonly c = churnLibc();
  private readonly mem: unknown;
  private readonly at: number;
  private readonly view: DataView;
  private readonly addrLen: number;
  private readonly family: number;
  private readonly reqLen: number;
  private readonly respLen: number;
  private readonly timeout: number;
  /** fds of the batch being worked on (-1: closed) */
  private readonly clients: Int32Array;
  private readonly servers: Int32Array;
  private readonly what: { accept: string; request: string; response: string; first: string; second: string };

  constructor(private readonly p: ChurnPlan, inFlight: number) {
    const addr = sockaddr(p.host, p.port);
    this.reqLen = p.request?.length ?? 0;
    this.respLen = p.response?.length ?? 0;
    const size = DATA + this.reqLen + this.respLen;
    this.mem = koffi.alloc('uint8_t', size);
    this.at = Number(koffi.address(this.mem));
    const bytes = new Uint8Array(koffi.view(this.mem, size));
    this.view = new DataView(bytes.buffer);
    bytes.set(addr, ADDR);
    if (p.request) bytes.set(p.request, DATA);
    if (p.response) bytes.set(p.response, DATA + this.reqLen);
    this.addrLen = addr.length;
    this.view.setUint32(PEER_LEN, 28, true);
    this.family = isIPv6(p.host) ? AF_INET6 : AF_INET;
    this.timeout = deadline(p.stepTimeoutMs ?? 5000);
    this.clients = new Int32Array(inFlight).fill(-1);
    this.servers = new Int32Array(inFlight).fill(-1);
    const other = p.closer === 'client' ? 'server' : 'client';
    this.what = {
      accept: `a connection to accept on ${p.host}:${p.port}`,
      request: 'the request',
      response: 'the response',
      second: `the ${p.closer}'s FIN, on the ${other}`,
      first: `the ${other}'s FIN, on the ${p.closer}`,
    };
  }

  free(): void {
    koffi.free(this.mem);
  }

  private fail(call: string): never {
    throw new SyscallError(call, koffi.errno());
  }

  /** block in poll(2) until fd is ready, at most stepTimeoutMs */
  private wait(fd: number, events: number, what: string): void {
    this.view.setInt32(POLLFD, fd, true);
    this.view.setInt16(POLLFD + 4, events, true);
    this.view.setInt16(POLLFD + 6, 0, true);
    for (;;) {
      const r = this.c.poll(this.at + POLLFD, 1, this.timeout);
      if (r > 0) return;
      if (r === 0) throw new Error(`churn: ${what} did not happen within ${this.timeout} ms`);
      if (koffi.errno() !== EINTR) this.fail('poll');
    }
  }

  /** a non-blocking client socket and its connect(); the errno name when connect fails at once */
  open(): number | string {
    const fd = this.c.socket(this.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) this.fail('socket');
    if (this.c.connect(fd, this.at + ADDR, this.addrLen) === 0) return fd;
    const errno = koffi.errno();
    if (errno === EINPROGRESS) return fd; // on loopback and veth the handshake is done by the time accept4 runs
    this.c.close(fd);
    return new SyscallError('connect', errno).code;
  }

  /** accept4 the next connection: its fd; the peer's port goes to `ports` */
  accept(ports: number[]): number {
    for (;;) {
      // the kernel writes back the length it used (16 for IPv4), which is again enough for the next peer
      const fd = this.c.accept4(this.p.listenFd, this.at + PEER, this.at + PEER_LEN, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        ports.push(this.view.getUint16(PEER + 2, false));
        return fd;
      }
      const errno = koffi.errno();
      if (errno === EAGAIN) this.wait(this.p.listenFd, POLLIN, this.what.accept);
      else if (errno !== EINTR) this.fail('accept4');
    }
  }

  /** read(2) until `len` bytes were read, or (len = -1) until EOF */
  read(fd: number, len: number, what: string): void {
    let left = len;
    while (left !== 0) {
      const r = this.c.read(fd, this.at + SCRATCH, left > 0 && left < SCRATCH_LEN ? left : SCRATCH_LEN);
      if (r > 0) {
        if (left > 0) left -= r;
      } else if (r === 0) {
        if (left < 0) return;
        throw new Error(`churn: ${what}: the peer closed ${left} bytes early`);
      } else {
        const errno = koffi.errno();
        if (errno === EAGAIN) this.wait(fd, POLLIN, what);
        else if (errno !== EINTR) this.fail('read');
      }
    }
  }

  write(fd: number, offset: number, len: number, what: string): void {
    let done = 0;
    while (done < len) {
      const r = this.c.send(fd, this.at + offset + done, len - done, MSG_NOSIGNAL);
      if (r >= 0) done += r;
      else {
        const errno = koffi.errno();
        if (errno === EAGAIN) this.wait(fd, POLLOUT, what);
        else if (errno !== EINTR) this.fail('send');
      }
    }
  }

  /** use and close the i-th connection of the batch; both fds are closed (and marked so) when this returns */
  finish(i: number): void {
    const client = this.clients[i];
    const server = this.servers[i];
    const clientFirst = this.p.closer === 'client';
    const first = clientFirst ? client : server;
    const second = clientFirst ? server : client;
    if (this.reqLen) {
      this.write(client, DATA, this.reqLen, this.what.request);
      this.read(server, this.reqLen, this.what.request);
    }
    if (this.respLen) this.write(server, DATA + this.reqLen, this.respLen, this.what.response);
    if (this.c.shutdown(first, SHUT_WR) < 0) this.fail('shutdown');
    this.read(second, -1, this.what.second);
    this.c.close(second);
    if (clientFirst) this.servers[i] = -1;
    else this.clients[i] = -1;
    this.read(first, -1, this.what.first); // EOF: its peer's FIN is in, so it is in TIME-WAIT
    this.c.close(first);
    this.clients[i] = this.servers[i] = -1;
  }

  /** one batch of k connections; false once a connect failed (untilConnectFails) */
  batch(k: number, out: ChurnResult): boolean {
    let made = 0;
    try {
      if (this.p.within) made = this.p.within(() => this.open_(k, out));
      else made = this.open_(k, out);
      for (let i = 0; i < made; i++) this.servers[i] = this.accept(out.ports);
      for (let i = 0; i < made; i++) this.finish(i);
    } finally {
      for (let i = 0; i < k; i++) {
        if (this.clients[i] >= 0) this.c.close(this.clients[i]);
        if (this.servers[i] >= 0) this.c.close(this.servers[i]);
        this.clients[i] = this.servers[i] = -1;
      }
    }
    return out.failure === undefined;
  }

  /** open up to k client sockets into `clients`; how many connect()s did not fail */
  private open_(k: number, out: ChurnResult): number {
    for (let i = 0; i < k; i++) {
      const fd = this.open();
      if (typeof fd === 'string') {
        if (!this.p.untilConnectFails) throw new Error(`churn: connect to ${this.p.host}:${this.p.port} failed: ${fd}`);
        out.failure = fd;
        return i;
      }
      this.clients[i] = fd;
    }
    return k;
  }
}
