// Entry script of an actor: a separate process inside the lab's sandbox that owns real sockets and does what
// the lab tells it over IPC (listen, connect, write, read, close, reset, socket options, raw syscalls).
// It dies with its parent (PR_SET_PDEATHSIG) and exits when the IPC channel closes, so it cannot outlive a lab.
import net from 'node:net';
import type { ActorCommand, ActorEvent, ActorMessage, ActorRequest, ConnInfo } from './protocol.ts';
import {
  IPPROTO_TCP, SOL_SOCKET, SO_ERROR, SO_KEEPALIVE, SO_RCVTIMEO, SO_SNDTIMEO, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL,
  dieWithParent, errnoName, getIntOption, getLinger, setIntOption, setLinger, setTimeoutOption, shutdownFd,
} from '../kernel/ffi.ts';
import { recvBlocking, recvNow, sendBlocking, sendNow, whileBlocking } from './syscalls.ts';
import { fdOf } from '../kernel/sockets.ts';

dieWithParent();
if (process.env.TCP_LAB_ACTOR_PARENT && String(process.ppid) !== process.env.TCP_LAB_ACTOR_PARENT) process.exit(70);
if (!process.send) {
  process.stderr.write('actor: no IPC channel (start it through harness/actors.ts)\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));

const t0 = Date.now();
const conns = new Map<number, net.Socket>();
const totals = new Map<number, number>();
let nextConn = 1;
let server: net.Server | undefined;

function send(m: ActorMessage): void {
  if (process.connected) process.send!(m);
}

function emit(kind: ActorEvent['kind'], conn: number, extra: Partial<ActorEvent> = {}): void {
  send({ type: 'event', kind, conn, atMs: Date.now() - t0, ...extra });
}

function infoOf(conn: number, s: net.Socket): ConnInfo {
  return { conn, fd: fdOf(s), localPort: s.localPort ?? 0, remotePort: s.remotePort ?? 0 };
}

/** Register a socket: give it an id, report its events, and leave it paused unless asked to read. */
function adoptSocket(s: net.Socket, read: boolean): number {
  const conn = nextConn++;
  conns.set(conn, s);
  totals.set(conn, 0);
  if (!read) s.pause(); // before the 'data' listener, which would otherwise start reading
  s.on('data', (d: Buffer) => {
    const total = totals.get(conn)! + d.length;
    totals.set(conn, total);
    emit('data', conn, { bytes: d.length, total });
  });
  s.on('end', () => emit('end', conn));
  s.on('timeout', () => emit('timeout', conn));
  s.on('error', (e: NodeJS.ErrnoException) => emit('error', conn, { code: e.code, syscall: e.syscall }));
  s.on('close', (hadError) => emit('close', conn, { hadError }));
  return conn;
}

function sock(conn: number): net.Socket {
  const s = conns.get(conn);
  if (!s) throw new Error(`no connection ${conn}`);
  return s;
}

async function handle(cmd: ActorCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'listen': {
      const srv = net.createServer({ allowHalfOpen: cmd.allowHalfOpen ?? false, pauseOnConnect: !cmd.read });
      srv.on('connection', (s) => {
        const conn = adoptSocket(s, !!cmd.read);
        emit('accept', conn, { info: infoOf(conn, s) });
      });
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(cmd.port, cmd.host ?? '127.0.0.1', () => resolve());
      });
      server = srv;
      return { port: (srv.address() as net.AddressInfo).port };
    }
    case 'unlisten':
      server?.close();
      server = undefined;
      return null;
    case 'connect': {
      const s = new net.Socket({ allowHalfOpen: cmd.allowHalfOpen ?? false });
      if (!cmd.read) s.pause();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(cmd.port, cmd.host ?? '127.0.0.1', () => {
          s.off('error', reject);
          resolve();
        });
      });
      const conn = adoptSocket(s, !!cmd.read);
      const info = infoOf(conn, s);
      emit('connect', conn, { info });
      return info;
    }
    case 'write':
      return new Promise((resolve) => {
        sock(cmd.conn).write(Buffer.alloc(cmd.bytes, 0x62), (err?: Error | null) =>
          resolve(err ? { ret: -1, errno: (err as NodeJS.ErrnoException).code ?? err.message } : { ret: cmd.bytes }),
        );
      });
    case 'resume':
      sock(cmd.conn).resume();
      return null;
    case 'pause':
      sock(cmd.conn).pause();
      return null;
    case 'end':
      sock(cmd.conn).end();
      return null;
    case 'shutdown':
      shutdownFd(fdOf(sock(cmd.conn)), cmd.how);
      return null;
    case 'destroy': {
      const t = Date.now();
      sock(cmd.conn).destroy();
      return { closeMs: Date.now() - t };
    }
    case 'reset':
      sock(cmd.conn).resetAndDestroy();
      return null;
    case 'sysread':
      return recvNow(fdOf(sock(cmd.conn)), cmd.max);
    case 'syswrite':
      return sendNow(fdOf(sock(cmd.conn)), cmd.bytes);
    case 'sockopt': {
      const fd = fdOf(sock(cmd.conn));
      setIntOption(fd, cmd.level, cmd.name, cmd.value);
      return getIntOption(fd, cmd.level, cmd.name);
    }
    case 'linger': {
      const fd = fdOf(sock(cmd.conn));
      setLinger(fd, cmd.onoff, cmd.seconds);
      return getLinger(fd);
    }
    case 'keepalive': {
      const s = sock(cmd.conn);
      const fd = fdOf(s);
      s.setKeepAlive(true, cmd.idle * 1000);
      setIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, cmd.idle);
      setIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, cmd.interval);
      setIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, cmd.count);
      return {
        keepalive: getIntOption(fd, SOL_SOCKET, SO_KEEPALIVE),
        idle: getIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE),
        interval: getIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL),
        count: getIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT),
      };
    }
    case 'idleTimeout':
      sock(cmd.conn).setTimeout(cmd.ms);
      return null;
    case 'blockingRecv': {
      const fd = fdOf(sock(cmd.conn));
      setTimeoutOption(fd, SO_RCVTIMEO, cmd.timeoutMs);
      return whileBlocking(fd, () => recvBlocking(fd, 65536));
    }
    case 'blockingSend': {
      const fd = fdOf(sock(cmd.conn));
      setTimeoutOption(fd, SO_SNDTIMEO, cmd.timeoutMs);
      const chunk = Buffer.alloc(65536, 0x63);
      return whileBlocking(fd, () => {
        let sent = 0;
        let calls = 0;
        for (;;) {
          const r = sendBlocking(fd, chunk);
          calls++;
          if (r.ret < 0 || sent >= cmd.maxBytes) return { sent, calls, last: r };
          sent += r.ret;
        }
      });
    }
    case 'soError': {
      const v = getIntOption(fdOf(sock(cmd.conn)), SOL_SOCKET, SO_ERROR);
      return v === 0 ? 'none' : errnoName(v);
    }
    case 'info': {
      const s = sock(cmd.conn);
      return { destroyed: s.destroyed, bytesRead: totals.get(cmd.conn) ?? 0, bytesWritten: s.bytesWritten, readableEnded: s.readableEnded };
    }
    case 'crash':
      process.stderr.write(`actor: crashing on purpose with exit code ${cmd.code}\n`);
      process.exit(cmd.code);
  }
}

process.on('message', (m: ActorRequest) => {
  if (m?.type !== 'request') return;
  handle(m.cmd).then(
    (value) => send({ type: 'reply', id: m.id, ok: true, value: value ?? null }),
    (err: NodeJS.ErrnoException) => send({ type: 'reply', id: m.id, ok: false, error: err.message, ...(err.code ? { code: err.code } : {}) }),
  );
});

send({ type: 'ready', pid: process.pid });
