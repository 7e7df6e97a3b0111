// Tests: a server that never calls close() piles up CLOSE-WAIT sockets that never time out, each holding a
// descriptor, until accept() fails with EMFILE under a low fd limit; calling close() clears them and accept works.
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type net from 'node:net';
import { filterSockets } from '../harness/census.ts';
import type { LabContext } from '../harness/context.ts';
import { LabSkip } from '../harness/errors.ts';
import { which } from '../harness/exec.ts';
import { startHelper, type HelperMessage } from '../harness/helper-process.ts';
import { readSockets } from '../harness/host.ts';
import { defineLab } from '../harness/lab.ts';
import type { SnapshotRecord } from '../harness/result.ts';
import { connect } from '../harness/sockets.ts';
import { until } from '../harness/wait.ts';

const A000 = '000_c4090bf7a4c28683.txt';
const A002 = '002_eaddc8cbcbe6c745.txt';
const A003 = '003_81081321638cfb34.txt';
const HOST = '127.0.0.1';
const SERVER = fileURLToPath(new URL('./support/leaky-server.ts', import.meta.url));

/** CLOSE-WAIT sockets on the server port, and how many of them ss -p says `pid` holds. */
function leakIn(snap: SnapshotRecord, port: number, pid: number) {
  const cw = filterSockets(snap.sockets, { localPort: port, state: 'CLOSE-WAIT' });
  return { closeWait: cw.length, held: cw.filter((s) => s.users?.some((u) => u.pid === pid)).length, timers: cw.filter((s) => s.timer).length };
}

export default defineLab({
  name: 'close-wait-leak',
  title: 'The CLOSE-WAIT leak: never closed, never timed out, one descriptor each, until accept() fails with EMFILE',
  description:
    'A separate server process, started under prlimit --nofile with a low limit, accepts connections and never ' +
    'closes them. Each client connects and half-closes, so every accepted socket goes to CLOSE-WAIT. The lab ' +
    'keeps connecting until the server\'s accept() fails with EMFILE, checks with ss -p that each CLOSE-WAIT socket ' +
    'is held by the server\'s descriptors, lowers tcp_fin_timeout and waits to show CLOSE-WAIT has no timer, then ' +
    'tells the server to close its sockets and shows a new connection is accepted again.',
  claims: [
    { id: 'close-wait-no-timeout', source: A003, statement: 'A CLOSE_WAIT connection whose application never closes it stays forever: no kernel timeout ends it.' },
    { id: 'close-wait-exhausts-fds', source: A000, statement: 'Each CLOSE_WAIT socket holds one of the process\'s descriptors, so a leak hits the open-files limit (ulimit -n) and the process can no longer accept connections.' },
    { id: 'close-fixes-it', source: A002, statement: 'The cure for CLOSE_WAIT is for the program to call close(): the sockets then close and the server works again.' },
  ],
  options: {
    nofile: { type: 'number', min: 40, max: 1024, default: 64, describe: 'open-files limit of the server process (prlimit --nofile)' },
    wait: { type: 'number', min: 0, max: 30, default: 2, describe: 'seconds to watch the full leak with tcp_fin_timeout = 1' },
    port: { type: 'number', min: 1024, max: 60000, default: 9000, describe: 'server port' },
  },
  async run(ctx: LabContext) {
    const nofile = ctx.options.nofile as number;
    const waitS = ctx.options.wait as number;
    const P = ctx.options.port as number;
    if (!(await which('prlimit'))) throw new LabSkip('prlimit is not installed; install it with: apt-get install -y util-linux');
    await ctx.sysctl('net.ipv4.tcp_fin_timeout', '1');

    ctx.step(`start the leaky server under prlimit --nofile=${nofile}:${nofile}`);
    const srv = await startHelper(ctx, 'leaky-server', SERVER, [String(P), String(process.pid)], ['prlimit', `--nofile=${nofile}:${nofile}`, '--']);
    const ready = await srv.next('ready', (m) => m.type === 'ready', { timeoutMs: 10_000 });
    const limits = readFileSync(`/proc/${srv.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))?.replace(/\s+/g, ' ').trim() ?? '?';
    ctx.event('process', `leaky server pid ${srv.pid}: ${ready.fds} descriptors open at start; /proc/${srv.pid}/limits: ${limits}`, { pid: srv.pid, fdsAtStart: ready.fds, limits });

    ctx.step('connect and half-close clients until the server cannot accept');
    const clients: net.Socket[] = [];
    ctx.defer(() => clients.forEach((c) => c.destroy()));
    let emfile: HelperMessage | undefined;
    let accepted = 0;
    for (let i = 0; i < nofile + 5 && !emfile; i++) {
      const c = await connect(P, HOST);
      clients.push(c);
      // accept4 fails with EMFILE as soon as no descriptor is free, even before a connection is pending,
      // so an error reported earlier counts too
      const m = await srv.next(`accept or error for client ${i + 1}`, (x) => x.type === 'error' || (x.type === 'accepted' && x.count === accepted + 1), { timeoutMs: 3000 });
      if (m.type === 'error') {
        emfile = m;
        ctx.event('errno', `server accept() failed with ${m.code} after ${m.count} connections kept (${m.fds === 'limit' ? `all ${nofile} descriptors in use` : `${m.fds} descriptors open`}, limit ${nofile})`, { code: m.code, syscall: m.syscall, kept: m.count, fds: m.fds, client: i + 1 });
      } else {
        accepted++;
        c.end(); // client half-closes: the server socket goes to CLOSE-WAIT and stays there
      }
    }
    await until(
      async () => {
        const n = filterSockets(await readSockets(ctx.host), { localPort: P, state: 'CLOSE-WAIT' }).length;
        return n >= accepted ? { done: true, value: n } : { done: false, last: n };
      },
      { what: `${accepted} CLOSE-WAIT on :${P}`, timeoutMs: 3000, signal: ctx.signal },
    );
    const full = await ctx.snapshot('leak full', { processes: true, focus: { localPort: P, state: 'CLOSE-WAIT' } });
    const fullLeak = leakIn(full, P, srv.pid);
    const queue = filterSockets(full.sockets, { localPort: P, state: 'LISTEN' })[0]?.recvQ ?? 0;
    ctx.event('accept-queue', `the listener's accept queue (Recv-Q of LISTEN) holds ${queue} connection(s) the server could not accept`, { queued: queue });

    ctx.step(`tcp_fin_timeout = 1 s; watch the leak for ${waitS} s`);
    for (let t = 0; t < waitS; t++) {
      ctx.progress(`watching CLOSE-WAIT: ${t} / ${waitS} s`);
      await sleep(1000);
    }
    const later = await ctx.snapshot(`leak after ${waitS} s`, { processes: true, focus: { localPort: P, state: 'CLOSE-WAIT' } });
    const laterLeak = leakIn(later, P, srv.pid);

    ctx.step('tell the server to close() its sockets, then connect once more');
    const from = srv.messages.length;
    srv.send('close');
    const closedMsg = await srv.next('closed', (m) => m.type === 'closed', { from });
    await until(
      async () => {
        const n = filterSockets(await readSockets(ctx.host), { localPort: P, state: ['CLOSE-WAIT', 'LAST-ACK'] }).length;
        return n === 0 ? { done: true, value: n } : { done: false, last: n };
      },
      { what: `no CLOSE-WAIT left on :${P}`, timeoutMs: 3000, signal: ctx.signal, describe: (n) => `${n} left` },
    );
    if (emfile) {
      const queued = await srv.next('accept of the connection that was refused with EMFILE', (m) => m.type === 'accepted', { from, timeoutMs: 3000 });
      ctx.event('accept', `with descriptors free again the server accepted the connection that had waited in the accept queue (fd ${queued.fd})`, { ...queued });
    }
    const from2 = srv.messages.length;
    const again = await connect(P, HOST);
    clients.push(again);
    const after = await srv.next('accept of a new connection after close()', (m) => m.type === 'accepted' || m.type === 'error', { from: from2, timeoutMs: 3000 });
    ctx.event('accept', `after close(): ${after.type === 'accepted' ? `a new connection was accepted (${after.fds} descriptors open)` : `accept still failed with ${after.code}`}`, { ...after });
    const fixed = await ctx.snapshot('after close()', { processes: true, focus: { localPort: P } });
    const fixedLeak = leakIn(fixed, P, srv.pid);

    ctx.table({
      title: `Server pid ${srv.pid}, open-files limit ${nofile}, ${ready.fds} descriptors in use at start`,
      columns: ['moment', 'CLOSE-WAIT on :' + P, 'held by the server (ss -p)', 'with a kernel timer', 'server descriptors'],
      rows: [
        ['accept() failed', String(fullLeak.closeWait), String(fullLeak.held), String(fullLeak.timers), String(emfile?.fds ?? '?')],
        [`${waitS} s later (tcp_fin_timeout = 1)`, String(laterLeak.closeWait), String(laterLeak.held), String(laterLeak.timers), '-'],
        ['after close()', String(fixedLeak.closeWait), String(fixedLeak.held), '-', String(after.fds ?? '?')],
      ],
    });

    // --- verdicts -----------------------------------------------------------------------------------------------
    const watched = (later.atMs - full.atMs) / 1000;
    if (laterLeak.closeWait >= fullLeak.closeWait && fullLeak.closeWait > 0 && laterLeak.timers === 0) {
      ctx.verdict('close-wait-no-timeout', 'confirmed', `${fullLeak.closeWait} CLOSE-WAIT sockets were all still there ${watched.toFixed(1)} s later with tcp_fin_timeout = 1 s, and ss showed no kernel timer on any of them: nothing in the kernel will end them; only the application's close() can. (A run cannot show "forever"; it shows that no timer is armed.)`);
    } else {
      ctx.verdict('close-wait-no-timeout', laterLeak.closeWait < fullLeak.closeWait ? 'refuted' : 'inconclusive', `CLOSE-WAIT at the fill: ${fullLeak.closeWait}; ${watched.toFixed(1)} s later: ${laterLeak.closeWait} (with timers: ${laterLeak.timers})`);
    }
    if (emfile?.code === 'EMFILE' && fullLeak.held === fullLeak.closeWait && fullLeak.closeWait === accepted) {
      ctx.verdict('close-wait-exhausts-fds', 'confirmed', `With the limit at ${nofile} (the process used ${ready.fds} descriptors before any connection) the server kept ${accepted} connections, every one in CLOSE-WAIT and held by its descriptors in ss -p; the next accept() failed with EMFILE (${emfile.fds === 'limit' ? `all ${nofile} descriptors in use` : `${emfile.fds} descriptors open`}) and the next client waited in the listener's accept queue. A real server with ulimit -n 1024 hits the same wall after roughly 1000 leaked connections.`);
    } else {
      ctx.verdict('close-wait-exhausts-fds', 'inconclusive', `accept error: ${emfile ? emfile.code : 'none'}; CLOSE-WAIT ${fullLeak.closeWait}, held by the server ${fullLeak.held}, accepted ${accepted}`);
    }
    if (fixedLeak.closeWait === 0 && after.type === 'accepted' && closedMsg.count === accepted) {
      ctx.verdict('close-fixes-it', 'confirmed', `After the server closed its ${closedMsg.count} sockets (descriptors back to ${closedMsg.fds}), ss listed no CLOSE-WAIT on :${P} and the next connection was accepted.`);
    } else {
      ctx.verdict('close-fixes-it', 'refuted', `after close(): CLOSE-WAIT ${fixedLeak.closeWait}; next accept: ${after.type} ${after.code ?? ''}`);
    }
  },
});
