// A server that accepts connections with accept4(2) and never closes them (the CLOSE-WAIT leak), until told
// "close" on stdin. Run by labs/close-wait-leak.ts under prlimit --nofile; reports on stdout as JSON lines.
// It calls accept4 itself (harness/ffi.ts acceptFd) because Node's net.Server never reports EMFILE: libuv's
// "EMFILE trick" silently accepts and closes the pending connection instead.
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SyscallError, acceptFd, bindTo, closeFd, dieWithParent, listenOn, tcpSocket } from '../../harness/kernel/ffi.ts';

dieWithParent();
// the parent may have died before prctl took effect: then nothing would kill us, so leave now
if (process.argv[3] && String(process.ppid) !== process.argv[3]) process.exit(70);
const port = Number(process.argv[2]);

const kept: number[] = [];
const say = (m: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(m)}\n`);
/** Descriptors open now (minus the one readdir itself needs); 'limit' when even that one is not available. */
const fds = (): number | 'limit' => {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return 'limit';
  }
};

const lfd = tcpSocket(4);
bindTo(lfd, '127.0.0.1', port);
listenOn(lfd, 128);
say({ type: 'ready', pid: process.pid, fds: fds() });

let lastError = '';
setInterval(() => {
  for (;;) {
    let fd: number;
    try {
      fd = acceptFd(lfd); // non-blocking, close-on-exec
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      if (e.code === 'EAGAIN') return; // nothing pending
      if (e.code !== lastError) say({ type: 'error', code: e.code, syscall: 'accept4', count: kept.length, fds: fds() });
      lastError = e.code;
      return;
    }
    kept.push(fd);
    lastError = '';
    say({ type: 'accepted', count: kept.length, fd, fds: fds() });
  }
}, 5);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'close') return;
  const n = kept.length;
  for (const fd of kept.splice(0)) closeFd(fd);
  say({ type: 'closed', count: n, fds: fds() });
});
