// Does a process that exits wait for SO_LINGER, the way its close() would?
import { A003, LOOPBACK, all, atLeast, atMost, checkActors, defineLab, endIn, endsOf, int, listen, need, startActors, stateIn, type SyscallResult } from '../harness/index.ts';

export default defineLab({
  title: 'Process exit does not wait for SO_LINGER; close() does',
  seconds: 2.5,
  setup:
    "Two client actors connect to the lab's listener, which does not read, and fill their send buffers; both set " +
    'SO_LINGER {1, N}. One calls close(): the call blocks while the data cannot be delivered. The other process is ' +
    'terminated (SIGTERM; its descriptors are closed as it exits): the lab times how long it takes to be gone and reads its ' +
    "socket's state and unsent bytes right after. The first process is terminated at the same moment (its socket is closed: " +
    'nothing to linger), so a slow machine shows in both exit times and only a linger delay in the difference.',
  claims: {
    'exit-ignores-linger': [A003, 'When a process exits, it does not wait for SO_LINGER: the kernel closes its sockets without the linger delay.'],
  },
  options: { seconds: int(1, 10, 2, 'l_linger of both clients', 's') },
  async run(ctx, o) {
    const port = ctx.port();
    const l = await listen({ host: LOOPBACK, port });
    ctx.defer(() => l.close());
    l.server.on('connection', (s) => s.pause()); // the server never reads: the clients' data cannot all be delivered
    const [closer, exiter] = await startActors(ctx, ['closer', 'exiter']);
    const fill = async (a: typeof closer) => {
      const c = await a.connect(port);
      for (let r: SyscallResult = { ret: 1 }; r.ret > 0; ) r = await a.syswrite(c.conn, 1 << 20);
      await a.request({ op: 'linger', conn: c.conn, onoff: true, seconds: o.seconds });
      return { c, end: endsOf(c.localPort, port).client };
    };
    const [a, b] = [await fill(closer), await fill(exiter)];
    ctx.step(`close() with SO_LINGER {1, ${o.seconds}} on one client`);
    const closeMs = (await closer.request<{ closeMs: number }>({ op: 'destroy', conn: a.c.conn }, o.seconds * 1000 + 5000)).closeMs;
    checkActors([closer]);
    ctx.step('terminate the other client process, with the same SO_LINGER and its data still unsent, and the first at the same moment (nothing to linger)');
    const t0 = Date.now();
    const timed = (x: typeof closer) => x.kill('SIGTERM').then((e) => ({ e, ms: Date.now() - t0 }));
    const [exit, base] = await Promise.all([timed(exiter), timed(closer)]); // both exits under the same conditions: only a linger delay differs
    const snap = await ctx.snapshot('right after the exit', { focus: { port } });
    return { seconds: o.seconds, closeMs, exitMs: exit.ms, baselineMs: base.e.signal === 'SIGTERM' ? base.ms : undefined, exit: exit.e.signal ?? `code ${exit.e.code}`, stateAfterExit: stateIn(snap, b.end), unsentAfterExit: endIn(snap, b.end)?.sendQ };
  },
  judge: (ev) => ({
    'exit-ignores-linger': all(
      need(`close() with the same SO_LINGER blocked for l_linger (${ev.seconds} s), so there was a delay to skip`, ev.closeMs >= ev.seconds * 900, `close() took ${ev.closeMs} ms`),
      // a process that waited for SO_LINGER would take l_linger longer than one with nothing to wait for: "well under" is half of it
      atMost(`how much longer its exit took (${ev.exit}, ${ev.exitMs} ms) than that of a process with nothing to linger (${ev.baselineMs ?? '?'} ms)`, ev.baselineMs === undefined ? undefined : ev.exitMs - ev.baselineMs, ev.seconds * 500, 'ms'),
      atLeast(`bytes its socket still had to send right after the exit (${ev.stateAfterExit})`, ev.unsentAfterExit, 1),
    ),
  }),
});
