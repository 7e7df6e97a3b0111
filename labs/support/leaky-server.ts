// A server that accepts connections with accept4(2) and never closes them (the CLOSE-WAIT leak), until told
// "close" on stdin. Run by labs/close-wait-leak.ts under prlimit --nofile; reports on stdout as JSON lines.
// It calls accept4 itself because Node's net.Server never reports EMFILE: libuv's "EMFILE trick" silently
// accepts and closes the pending connection instead.
import koffi from 'koffi';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SyscallError, bindTo, closeFd, dieWithParent, listenOn, tcpSocket } from '../../harness/ffi.ts';

dieWithParent();
// the parent may have died before prctl took effect: then nothing would kill us, so leave now
if (process.argv[3] && String(process.ppid) !== process.argv[3]) process.exit(70);
const port = Number(process.argv[2]);
const libc = koffi.load('libc.so.6');
const accept4 = libc.func('int accept4(int fd, void *addr, void *len, int flags)');
const SOCK_NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;

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
    const fd = accept4(lfd, null, null, SOCK_NONBLOCK_CLOEXEC) as number;
    if (fd >= 0) {
      kept.push(fd);
      lastError = '';
      say({ type: 'accepted', count: kept.length, fd, fds: fds() });
      continue;
    }
    const code = new SyscallError('accept4', koffi.errno()).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return; // nothing pending
    if (code !== lastError) say({ type: 'error', code, syscall: 'accept4', count: kept.length, fds: fds() });
    lastError = code;
    return;
  }
}, 5);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'close') return;
  const n = kept.length;
  for (const fd of kept.splice(0)) closeFd(fd);
  say({ type: 'closed', count: n, fds: fds() });
});
