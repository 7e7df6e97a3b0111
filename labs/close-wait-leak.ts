// A server that never calls close(): does CLOSE-WAIT time out, does it exhaust descriptors, does close() cure it?
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { A000, A002, A003, LOOPBACK, WaitTimeout, all, connect, every, defineLab, filterSockets, int, is, need, startHelper, type HelperMessage, type SnapshotRecord } from '../harness/index.ts';

const SERVER = fileURLToPath(new URL('./support/leaky-server.ts', import.meta.url));
export default defineLab({
  title: 'The CLOSE-WAIT leak: never closed, never timed out, one descriptor each, until accept() fails with EMFILE',
  seconds: 3,
  setup:
    'A server process under prlimit --nofile (a low limit) accepts connections with accept4() and never closes them. ' +
    "Each client connects and half-closes, so every accepted socket goes to CLOSE-WAIT, until the server's accept() " +
    'fails. ss -p shows who holds each CLOSE-WAIT socket; with tcp_fin_timeout lowered the leak is watched for timers ' +
    'and for sockets going away; then the server closes its sockets and a new connection is tried.',
  claims: {
    'close-wait-no-timeout': [A003, 'A CLOSE_WAIT connection whose application never closes it stays forever: no kernel timeout ends it.'],
    'close-wait-exhausts-fds': [A000, "Each CLOSE_WAIT socket holds one of the process's descriptors, so a leak hits the open-files limit (ulimit -n) and the process can no longer accept connections."],
    'close-fixes-it': [A002, 'The cure for CLOSE_WAIT is for the program to call close(): the sockets then close and the server works again.'],
  },
  options: {
    nofile: int(40, 1024, 64, 'open-files limit of the server process (prlimit --nofile)', 'descriptors'),
    wait: int(0, 30, 2, 'how long to watch the full leak with tcp_fin_timeout = 1 (under 2 s answers nothing)', 's'),
  },
  needs: [{ program: 'prlimit', install: 'apt-get install -y util-linux' }],
  async run(ctx, o) {
    const [finTimeout, port] = [Number(await ctx.sysctl('net.ipv4.tcp_fin_timeout', '1')), ctx.port()];
    ctx.step(`start the leaky server under prlimit --nofile=${o.nofile}:${o.nofile}`);
    const srv = await startHelper(ctx, 'leaky-server', SERVER, [String(port), String(process.pid)], ['prlimit', `--nofile=${o.nofile}:${o.nofile}`, '--']);
    const ready = await srv.next('ready', (m) => m.type === 'ready', { timeoutMs: 10_000 });
    const limits = readFileSync(`/proc/${srv.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))?.replace(/\s+/g, ' ').trim();
    ctx.step('connect and half-close clients until the server cannot accept');
    let [emfile, accepted] = [undefined as HelperMessage | undefined, 0];
    for (let i = 0; i < o.nofile + 5 && !emfile; i++) {
      const c = await connect(port, LOOPBACK);
      ctx.defer(() => c.destroy());
      // accept4 fails with EMFILE as soon as no descriptor is free, so an error reported earlier counts too
      const m = await srv.next(`accept or error for client ${i + 1}`, (x) => x.type === 'error' || (x.type === 'accepted' && x.count === accepted + 1), { timeoutMs: 3000 });
      if (m.type === 'error') emfile = m;
      else { accepted++; c.end(); } // the client half-closes: the server socket goes to CLOSE-WAIT
    }
    const [mine, cw] = [{ localPort: port, state: 'CLOSE-WAIT' } as const, (xs: SnapshotRecord['sockets']) => filterSockets(xs, mine).length]; // the waits' filter: ss reads only these
    const leak = (s: SnapshotRecord) => ((cw) => ({ closeWait: cw.length, held: cw.filter((x) => x.users?.some((u) => u.pid === srv.pid)).length, timers: cw.filter((x) => x.timer).length }))(filterSockets(s.sockets, mine));
    const full = await ctx.waitSs(`${accepted} CLOSE-WAIT on :${port}`, (xs) => cw(xs) >= accepted, { label: 'leak full', processes: true, filter: mine, focus: { localPort: port } });
    ctx.step(`tcp_fin_timeout = ${finTimeout} s; watch the leak for ${o.wait} s (ends early if a CLOSE-WAIT socket goes away)`);
    const t0 = ctx.elapsedMs();
    const later = await ctx.waitSs(`a ${o.wait} s watch`, (xs) => ctx.elapsedMs() - t0 >= o.wait * 1000 || cw(xs) < accepted, { intervalMs: 200, timeoutMs: o.wait * 1000 + 3000, label: 'leak after the watch', processes: true, filter: mine, focus: { localPort: port }, progress: (ms) => `watching CLOSE-WAIT: ${(ms / 1000).toFixed(0)} / ${o.wait} s` });
    ctx.step('tell the server to close() its sockets, then connect once more');
    const from = srv.messages.length; srv.send('close');
    const closed = await srv.next('closed', (m) => m.type === 'closed', { from });
    await ctx.waitSs(`no CLOSE-WAIT left on :${port}`, (xs) => cw(xs) === 0, { timeoutMs: 3000, filter: mine }).catch((e: unknown) => { if (!(e instanceof WaitTimeout)) throw e; });
    const [from2, again] = [srv.messages.length, await connect(port, LOOPBACK)];
    ctx.defer(() => again.destroy());
    const next = await srv.next('accept of a new connection after close()', (m) => m.type === 'accepted' || m.type === 'error', { from: from2, timeoutMs: 3000 }).catch((e: unknown) => { if (e instanceof WaitTimeout) return { type: 'none' } as HelperMessage; throw e; });
    const fixed = await ctx.snapshot('after close()', { processes: true, focus: { localPort: port } });
    return {
      nofile: o.nofile, limits, fdsAtStart: ready.fds as number, accepted, error: emfile && { code: String(emfile.code), kept: Number(emfile.count), fds: String(emfile.fds) },
      queued: filterSockets(full.sockets, { localPort: port, state: 'LISTEN' })[0]?.recvQ ?? 0,
      finTimeout, watchedMs: later.atMs - full.atMs, full: leak(full), later: leak(later), closedCount: Number(closed.count), fdsAfterClose: Number(closed.fds),
      next: next.type === 'accepted' ? 'accepted' : next.type === 'error' ? String(next.code) : 'nothing within 3 s', fixed: leak(fixed),
    };
  },
  judge: (ev) => ({
    'close-wait-no-timeout': every(
      need('CLOSE-WAIT sockets were there to watch', ev.full.closeWait > 0, 'none when the leak was full'),
      need(`the watch outlasted tcp_fin_timeout + 1 s (${(ev.finTimeout + 1) * 1000} ms)`, ev.watchedMs >= (ev.finTimeout + 1) * 1000 || ev.later.closeWait < ev.full.closeWait, `it lasted ${ev.watchedMs} ms`),
      is(`CLOSE-WAIT sockets still there ${ev.watchedMs} ms later, with tcp_fin_timeout = ${ev.finTimeout} s`, ev.later.closeWait, ev.full.closeWait),
      is('CLOSE-WAIT sockets with a kernel timer (ss)', ev.later.timers, 0),
    ),
    'close-wait-exhausts-fds': all(
      need('the server accepted connections', ev.accepted > 0, 'it accepted none'),
      is(`accept() after ${ev.accepted} connections kept, limit ${ev.nofile} (${ev.fdsAtStart} in use at start)`, ev.error?.code ?? 'no error', 'EMFILE'),
      is(`CLOSE-WAIT sockets held by the server's descriptors (ss -p), of ${ev.full.closeWait}`, ev.full.held, ev.accepted),
    ),
    'close-fixes-it': all(
      need('the server closed every kept socket', ev.accepted > 0 && ev.closedCount === ev.accepted, `it closed ${ev.closedCount} of ${ev.accepted}`),
      is('CLOSE-WAIT left after close()', ev.fixed.closeWait, 0),
      is('a new connection after close()', ev.next, 'accepted'),
    ),
  }),
  tables: (ev) => [{
    title: `Leaky server, open-files limit ${ev.nofile} (${ev.limits ?? '?'}), ${ev.fdsAtStart} descriptors at start`,
    columns: ['moment', 'CLOSE-WAIT', 'held by the server (ss -p)', 'with a kernel timer', 'server descriptors'],
    rows: [
      [`accept() ${ev.error ? `failed: ${ev.error.code}` : 'never failed'}`, ...[ev.full.closeWait, ev.full.held, ev.full.timers, ev.error?.fds ?? '?'].map(String)],
      [`${ev.watchedMs} ms later`, ...[ev.later.closeWait, ev.later.held, ev.later.timers].map(String), '-'],
      ['after close()', ...[ev.fixed.closeWait, ev.fixed.held].map(String), '-', String(ev.fdsAfterClose)],
    ],
    note: `The listener's accept queue held ${ev.queued} connection(s) the server could not accept. After close(), the next connection: ${ev.next}.`,
  }],
});
