// Tests: a server that never calls close() piles up CLOSE-WAIT sockets that never time out, each holding a
// descriptor, until accept() fails with EMFILE under a low fd limit; calling close() clears them and accept works.
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type net from 'node:net';
import { A000, A002, A003 } from '../harness/lab/articles.ts';
import { filterSockets } from '../harness/evidence/census.ts';
import type { LabContext } from '../harness/lab/context.ts';
import { WaitTimeout } from '../harness/errors.ts';
import { startHelper, type HelperMessage } from '../harness/actors/helper-process.ts';
import { defineLab } from '../harness/lab/define.ts';
import type { SnapshotRecord } from '../harness/evidence/records.ts';
import { connect } from '../harness/kernel/sockets.ts';

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
  needs: [{ program: 'prlimit', install: 'apt-get install -y util-linux' }],
  async run(ctx: LabContext) {
    const nofile = ctx.options.nofile as number;
    const waitS = ctx.options.wait as number;
    const P = ctx.options.port as number;
    const finTimeout = await ctx.sysctl('net.ipv4.tcp_fin_timeout', '1');

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
    ctx.event('leak', `${clients.length} clients connected, the server accepted ${accepted} and kept them all`, { clients: clients.length, accepted });
    const full = await ctx.waitSs(`${accepted} CLOSE-WAIT on :${P}`, (read) => filterSockets(read, { localPort: P, state: 'CLOSE-WAIT' }).length >= accepted, {
      timeoutMs: 3000,
      label: 'leak full',
      processes: true,
      focus: { localPort: P, state: 'CLOSE-WAIT' },
    });
    const fullLeak = leakIn(full, P, srv.pid);
    const queue = filterSockets(full.sockets, { localPort: P, state: 'LISTEN' })[0]?.recvQ ?? 0;
    ctx.event('accept-queue', `the listener's accept queue (Recv-Q of LISTEN) holds ${queue} connection(s) the server could not accept`, { queued: queue });

    ctx.step(`tcp_fin_timeout = ${finTimeout} s; watch the leak for ${waitS} s`);
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
    ctx.event('close', `the server called close() on its ${closedMsg.count} kept sockets; ${closedMsg.fds} descriptors open now`, { ...closedMsg });
    const closing = { localPort: P, state: ['CLOSE-WAIT', 'LAST-ACK'] } as const;
    await ctx.waitSs(`no CLOSE-WAIT or LAST-ACK left on :${P}`, (read) => filterSockets(read, closing).length === 0, {
      timeoutMs: 3000,
      describe: (last) => `${filterSockets(last ?? [], closing).length} left`,
    }).catch((e: unknown) => {
      if (!(e instanceof WaitTimeout)) throw e;
      ctx.note(e.message); // they stayed: the snapshot after close() records them and the verdict says so
    });
    if (emfile) {
      const queued = await srv.next('accept of the connection that was refused with EMFILE', (m) => m.type === 'accepted', { from, timeoutMs: 3000 }).catch((e: unknown) => {
        if (!(e instanceof WaitTimeout)) throw e;
        return undefined;
      });
      if (queued) ctx.event('accept', `with descriptors free again the server accepted the connection that had waited in the accept queue (fd ${queued.fd})`, { ...queued, which: 'queued' });
      else ctx.note('the connection that waited in the accept queue was not accepted within 3 s of close()');
    }
    const from2 = srv.messages.length;
    const again = await connect(P, HOST);
    clients.push(again);
    const after = await srv.next('accept of a new connection after close()', (m) => m.type === 'accepted' || m.type === 'error', { from: from2, timeoutMs: 3000 }).catch((e: unknown) => {
      if (e instanceof WaitTimeout) return { type: 'none' } as HelperMessage; // the server answered nothing: recorded below
      throw e;
    });
    ctx.event('accept', `after close(): ${after.type === 'accepted' ? `a new connection was accepted (${after.fds} descriptors open)` : after.type === 'error' ? `accept still failed with ${after.code}` : 'the server reported neither an accept nor an error within 3 s'}`, { ...after, which: 'new' });
    const fixed = await ctx.snapshot('after close()', { processes: true, focus: { localPort: P } });
    const fixedLeak = leakIn(fixed, P, srv.pid);

    ctx.table({
      title: `Server pid ${srv.pid}, open-files limit ${nofile}, ${ready.fds} descriptors in use at start`,
      columns: ['moment', 'CLOSE-WAIT on :' + P, 'held by the server (ss -p)', 'with a kernel timer', 'server descriptors'],
      rows: [
        ['accept() failed', String(fullLeak.closeWait), String(fullLeak.held), String(fullLeak.timers), String(emfile?.fds ?? '?')],
        [`${waitS} s later (tcp_fin_timeout = ${finTimeout})`, String(laterLeak.closeWait), String(laterLeak.held), String(laterLeak.timers), '-'],
        ['after close()', String(fixedLeak.closeWait), String(fixedLeak.held), '-', String(after.fds ?? '?')],
      ],
    });

    // --- verdicts -----------------------------------------------------------------------------------------------
    // not observed (nothing leaked, the cure not applied) → inconclusive; observed otherwise → refuted / partly
    const watched = (later.atMs - full.atMs) / 1000;
    const fin = `tcp_fin_timeout = ${finTimeout} s`;
    if (fullLeak.closeWait === 0) {
      ctx.verdict('close-wait-no-timeout', 'inconclusive', `No CLOSE-WAIT socket was on :${P} when the leak was full (accepted ${accepted}), so there was nothing to watch.`);
    } else if (laterLeak.closeWait < fullLeak.closeWait) {
      ctx.verdict('close-wait-no-timeout', 'refuted', `${fullLeak.closeWait} CLOSE-WAIT sockets at the fill, only ${laterLeak.closeWait} ${watched.toFixed(1)} s later with ${fin}, without the server closing any: something in the kernel ended them.`);
    } else if (laterLeak.timers > 0) {
      ctx.verdict('close-wait-no-timeout', 'partly', `All ${fullLeak.closeWait} CLOSE-WAIT sockets were still there ${watched.toFixed(1)} s later with ${fin}, but ss showed a kernel timer on ${laterLeak.timers} of them (${filterSockets(later.sockets, { localPort: P, state: 'CLOSE-WAIT' }).find((s) => s.timer)?.timer?.raw}), which might end them.`);
    } else {
      ctx.verdict('close-wait-no-timeout', 'confirmed', `${fullLeak.closeWait} CLOSE-WAIT sockets were all still there ${watched.toFixed(1)} s later with ${fin}, and ss showed no kernel timer on any of them: nothing in the kernel will end them; only the application's close() can. (A run cannot show "forever"; it shows that no timer is armed.)`);
    }

    const ownership = `CLOSE-WAIT on :${P}: ${fullLeak.closeWait}, held by the server's descriptors (ss -p): ${fullLeak.held}, connections accepted: ${accepted}`;
    if (!emfile) {
      ctx.verdict('close-wait-exhausts-fds', 'refuted', `The server, limited to ${nofile} descriptors (${ready.fds} in use at start), accepted all ${accepted} of ${clients.length} connections and accept() never failed: the leak did not stop it accepting (${ownership}).`);
    } else if (emfile.code !== 'EMFILE') {
      ctx.verdict('close-wait-exhausts-fds', 'partly', `accept() did fail after ${emfile.count} connections kept, but with ${emfile.code}, not EMFILE (the open-files limit) (${ownership}).`);
    } else if (fullLeak.held !== fullLeak.closeWait || fullLeak.closeWait !== accepted) {
      ctx.verdict('close-wait-exhausts-fds', 'partly', `accept() failed with EMFILE after ${emfile.count} connections kept (limit ${nofile}), but the CLOSE-WAIT sockets and the server's descriptors did not match one for one: ${ownership}.`);
    } else {
      ctx.verdict('close-wait-exhausts-fds', 'confirmed', `With the limit at ${nofile} (the process used ${ready.fds} descriptors before any connection) the server kept ${accepted} connections, every one in CLOSE-WAIT and held by its descriptors in ss -p; the next accept() failed with EMFILE (${emfile.fds === 'limit' ? `all ${nofile} descriptors in use` : `${emfile.fds} descriptors open`}) and the next client waited in the listener's accept queue (Recv-Q ${queue}). A real server with ulimit -n 1024 hits the same wall after roughly 1000 leaked connections.`);
    }

    const nextAccept = after.type === 'accepted' ? 'the next connection was accepted' : after.type === 'error' ? `the next accept() still failed with ${after.code}` : 'the next connection was not accepted within 3 s';
    if (accepted === 0 || closedMsg.count !== accepted) {
      ctx.verdict('close-fixes-it', 'inconclusive', `The cure was not applied to a leak: the server closed ${closedMsg.count} socket(s) of ${accepted} accepted; ${nextAccept}.`);
    } else if (fixedLeak.closeWait > 0 || after.type !== 'accepted') {
      ctx.verdict('close-fixes-it', 'refuted', `After the server closed its ${closedMsg.count} sockets (descriptors back to ${closedMsg.fds}), ss still listed ${fixedLeak.closeWait} CLOSE-WAIT on :${P} and ${nextAccept}.`);
    } else {
      ctx.verdict('close-fixes-it', 'confirmed', `After the server closed its ${closedMsg.count} sockets (descriptors back to ${closedMsg.fds}), ss listed no CLOSE-WAIT on :${P} and ${nextAccept}.`);
    }
  },
});
