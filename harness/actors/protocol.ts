// The messages between a lab (harness/actors.ts) and an actor process (harness/actors-main.ts), over Node IPC.
// Plain JSON data; connections inside an actor are named by small integers ("conn"). formatResult is the one
// way labs print a SyscallResult.

export interface ConnInfo {
  conn: number;
  fd: number;
  localPort: number;
  remotePort: number;
}

/** What one raw syscall returned: ret >= 0 (bytes, 0 = EOF) or -1 with the errno name. */
export interface SyscallResult {
  ret: number;
  errno?: string;
  /** how long the call took (blocking calls) */
  elapsedMs?: number;
}

/** One syscall result for reports: "1000 bytes", "0 (EOF)" or "-1 ECONNRESET". */
export function formatResult(r: SyscallResult): string {
  return r.ret < 0 ? `-1 ${r.errno}` : r.ret === 0 ? '0 (EOF)' : `${r.ret} bytes`;
}

export type ActorCommand =
  /** open a listener (Node net.Server); accepted connections arrive as 'accept' events */
  | { op: 'listen'; port: number; host?: string; allowHalfOpen?: boolean; read?: boolean }
  | { op: 'unlisten' }
  /** connect with Node's net module; paused (not reading) unless read */
  | { op: 'connect'; port: number; host?: string; allowHalfOpen?: boolean; read?: boolean }
  /** socket.write(n bytes); replies when Node's write callback runs ({ ret: n } or the error code) */
  | { op: 'write'; conn: number; bytes: number }
  /** start / stop reading (flowing mode); data is counted, not kept */
  | { op: 'resume'; conn: number }
  | { op: 'pause'; conn: number }
  /** socket.end() = shutdown(SHUT_WR) after pending writes */
  | { op: 'end'; conn: number }
  /** shutdown(2) on the connection's fd: 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR (Node is not told) */
  | { op: 'shutdown'; conn: number; how: 0 | 1 | 2 }
  /** socket.destroy() = close(2) on the fd */
  | { op: 'destroy'; conn: number }
  /** socket.resetAndDestroy() = SO_LINGER {1,0} then close(2) */
  | { op: 'reset'; conn: number }
  /** recv(2) with MSG_DONTWAIT on the connection's fd (the socket must be paused) */
  | { op: 'sysread'; conn: number; max: number }
  /** send(2) with MSG_DONTWAIT | MSG_NOSIGNAL on the connection's fd */
  | { op: 'syswrite'; conn: number; bytes: number }
  /** setsockopt(int) and read it back */
  | { op: 'sockopt'; conn: number; level: number; name: number; value: number }
  /** SO_LINGER {onoff, seconds} and read it back */
  | { op: 'linger'; conn: number; onoff: boolean; seconds: number }
  /** Node's setKeepAlive(true) plus TCP_KEEPIDLE/INTVL/CNT in seconds */
  | { op: 'keepalive'; conn: number; idle: number; interval: number; count: number }
  /** Node's socket.setTimeout(ms): an application timer that only emits 'timeout' */
  | { op: 'idleTimeout'; conn: number; ms: number }
  /** a blocking recv(2) with SO_RCVTIMEO = ms (the fd is made blocking for the call) */
  | { op: 'blockingRecv'; conn: number; timeoutMs: number }
  /** blocking send(2) calls with SO_SNDTIMEO = ms until one fails (or maxBytes are sent) */
  | { op: 'blockingSend'; conn: number; timeoutMs: number; maxBytes: number }
  /** getsockopt SO_ERROR: the error pending on the socket */
  | { op: 'soError'; conn: number }
  | { op: 'info'; conn: number }
  /** tests: make the actor crash */
  | { op: 'crash'; code: number };

export interface ActorRequest {
  type: 'request';
  id: number;
  cmd: ActorCommand;
}

export type ActorEventKind = 'accept' | 'connect' | 'data' | 'end' | 'error' | 'close' | 'timeout';

export interface ActorEvent {
  type: 'event';
  kind: ActorEventKind;
  conn: number;
  /** accept/connect: the connection's ports */
  info?: ConnInfo;
  /** data: bytes in this chunk and in total */
  bytes?: number;
  total?: number;
  /** error: Node's code (ECONNRESET, EPIPE, ETIMEDOUT ...) and syscall */
  code?: string;
  syscall?: string;
  /** close: Node's hadError */
  hadError?: boolean;
  /** ms since the actor started */
  atMs: number;
}

export type ActorMessage =
  | { type: 'ready'; pid: number }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string; code?: string }
  | ActorEvent;
