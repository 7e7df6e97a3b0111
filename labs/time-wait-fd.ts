// Does a TIME-WAIT socket still hold a file descriptor, so that a process with many of them cannot connect again?
import { readdirSync } from 'node:fs';
import { A000, LOOPBACK, all, because, connect, defineLab, filterSockets, int, is, leave, need } from '../harness/index.ts';

const fds = () => readdirSync('/proc/self/fd').length;

export default defineLab({
  title: 'A TIME-WAIT socket holds no file descriptor, and new connections still open',
  setup:
    'The lab process opens N connections to its own listener and closes each from the client side, so N client ' +
    'sockets sit in TIME-WAIT. It counts its own descriptors (/proc/self/fd) before and after, asks ss -p which ' +
    'process owns each TIME-WAIT socket, and then opens one more connection.',
  claims: {
    'time-wait-holds-fd': [A000, 'A socket in TIME_WAIT still holds a file descriptor, so a process with many of them cannot open new connections.'],
  },
  options: { n: int(1, 2000, 200, 'connections closed first by the client (each leaves a TIME-WAIT socket)', 'connections') },
  async run(ctx, o) {
    const before = fds();
    ctx.step(`${o.n} connections, each closed first by the client`);
    const left = await leave(ctx, o.n, 'TIME-WAIT', { on: 'client' });
    const snap = await ctx.snapshot('TIME-WAIT', { processes: true, focus: { state: 'TIME-WAIT' } });
    const tw = filterSockets(snap.sockets, { peerPort: left.port, state: 'TIME-WAIT' });
    const during = fds();
    ctx.step('one more connection while they sit in TIME-WAIT');
    const next = await connect(left.port, LOOPBACK).then((s) => { ctx.defer(() => s.destroy()); return 'connected'; }, (e: NodeJS.ErrnoException) => e.code ?? String(e));
    return { n: o.n, before, during, listenerFds: 1, timeWait: tw.length, owned: tw.filter((s) => s.users?.length).length, next };
  },
  judge: (ev) => ({
    'time-wait-holds-fd': because(all(
      need(`${ev.n} TIME-WAIT sockets were there`, ev.timeWait === ev.n, `ss showed ${ev.timeWait}`),
      is(`TIME-WAIT sockets owned by a process in ss -p (of ${ev.timeWait})`, ev.owned, ev.n),
      is(`descriptors the process gained while ${ev.n} sockets sat in TIME-WAIT (besides its listener)`, ev.during - ev.before - ev.listenerFds, ev.n),
    ), `With them in TIME-WAIT, one more connect() gave: ${ev.next} (no lowered descriptor limit in this run).`),
  }),
});
