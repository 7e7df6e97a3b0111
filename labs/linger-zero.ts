// SO_LINGER: which settings make close() send RST instead of FIN, and how long does close() then take?
import { A000, A003, WaitTimeout, all, atLeast, atMost, caveat, check, checkActors, defineLab, endIn, endsOf, int, need, some, startActors, stateIn, type SyscallResult } from '../harness/index.ts';

const MODES = ['close', 'linger0', 'resetAndDestroy', 'linger-n', 'linger-n-blocked'] as const;
type Mode = (typeof MODES)[number];
const HOW: Record<Mode, string> = {
  close: 'close() with SO_LINGER off', linger0: 'SO_LINGER {1, 0} then close()', resetAndDestroy: 'resetAndDestroy()',
  'linger-n': 'SO_LINGER {1, %} then close()', 'linger-n-blocked': 'SO_LINGER {1, %} then close(), peer not reading',
};

export default defineLab({
  title: 'SO_LINGER: l_linger = 0 sends RST and skips TIME-WAIT; a non-zero linger only makes close() wait',
  setup:
    "A client actor closes a connection to a server actor five ways: plain close(), SO_LINGER {1,0}, Node's " +
    'resetAndDestroy(), SO_LINGER {1,N} with nothing left to send, and SO_LINGER {1,N} with the send buffer full ' +
    "and the server not reading. For each: how long close() took, the client's socket right after and once " +
    "settled, the namespace's RST and abort counters, and what the server saw (FIN or ECONNRESET). " +
    'tcp_rfc1337 is 1 in the sandbox: a TIME-WAIT ignores RSTs, so one that answers a stray segment after the ' +
    'close (a delayed ACK that loopback delivered behind the FIN, seen under load) cannot end it early.',
  claims: {
    'linger-sends-rst': [A000, 'SO_LINGER can make close() send RST and tear the connection down at once, skipping TIME-WAIT (not recommended).'],
    'linger-close-waits': [A003, 'With a non-zero SO_LINGER, close() does not return at once: it waits up to that time for unsent data to go out.'],
  },
  options: { seconds: int(1, 10, 1, 'l_linger of the non-zero cases', 's') },
  async run(ctx, o) {
    await ctx.sysctl('net.ipv4.tcp_rfc1337', '1');
    const [server, client] = await startActors(ctx, ['server', 'client']);
    const port = ctx.port();
    await server.listen(port); // Node defaults: answers a FIN with its own FIN
    const rows = await ctx.matrix({ mode: MODES }, async ({ mode }) => {
      ctx.step(HOW[mode].replace('%', String(o.seconds)));
      const c = await client.connect(port);
      const s = await server.accepted(c.localPort, port);
      const end = endsOf(c.localPort, port).client;
      if (mode !== 'linger-n-blocked') await server.request({ op: 'resume', conn: s.conn });
      else for (let r: SyscallResult = { ret: 1 }; r.ret > 0; ) r = await client.syswrite(c.conn, 1 << 20); // fill both buffers
      if (mode === 'linger0' || mode.startsWith('linger-n')) await client.request({ op: 'linger', conn: c.conn, onoff: true, seconds: mode === 'linger0' ? 0 : o.seconds });
      const { value, delta } = await ctx.counters(mode, async () => {
        const closeMs = mode === 'resetAndDestroy' ? (await client.request({ op: 'reset', conn: c.conn }), 0)
          : (await client.request<{ closeMs: number }>({ op: 'destroy', conn: c.conn }, o.seconds * 1000 + 5000)).closeMs;
        const right = await ctx.snapshot(`${mode}: just after close() returned`, { focus: { port: c.localPort } });
        if (mode === 'linger-n-blocked') await server.request({ op: 'resume', conn: s.conn });
        const settled = await ctx.waitSs(`the client end :${c.localPort} to settle`, (xs) => ['TIME-WAIT', 'absent'].includes(stateIn(xs, end)), { label: `${mode}: settled`, timeoutMs: 5000 });
        return { closeMs, right: stateIn(right, end), sendQ: endIn(right, end)?.sendQ ?? 0, settled: stateIn(settled, end) };
      });
      const closed = await server.waitEvent('close', s.conn, 3000).then(() => true, (e: unknown) => { if (e instanceof WaitTimeout) return false; throw e; });
      const err = server.events.find((e) => e.conn === s.conn && e.kind === 'error');
      // RSTs that close() sent (aborting the connection), apart from any the peer sent later
      const aborts = (delta['TcpExt.TCPAbortOnData'] ?? 0) + (delta['TcpExt.TCPAbortOnClose'] ?? 0);
      return { ...value, rsts: delta['Tcp.OutRsts'] ?? 0, aborts, serverSaw: err ? `error ${err.code}` : closed ? 'FIN' : 'nothing' };
    });
    checkActors([server, client]);
    return { seconds: o.seconds, rows };
  },
  judge: ({ seconds, rows }) => {
    const at = (m: Mode) => rows.find((r) => r.mode === m)?.evidence;
    const line = (m: Mode) => { const r = at(m); return r && `${r.settled === 'absent' ? 'no TIME-WAIT' : r.settled}, RSTs sent ${r.rsts} (aborting close()s ${r.aborts}), server saw ${r.serverSaw}`; };
    const rst = (m: Mode) => check(HOW[m].replace('%', String(seconds)), line(m), 'RST: no TIME-WAIT, server saw ECONNRESET', at(m)?.rsts! >= 1 && at(m)?.settled === 'absent' && at(m)?.serverSaw === 'error ECONNRESET');
    return {
      'linger-sends-rst': some(
        need('a plain close() sends FIN (no abort) and ends in TIME-WAIT', at('close')?.settled === 'TIME-WAIT' && at('close')?.aborts === 0 && at('close')?.serverSaw === 'FIN', `plain close(): ${line('close') ?? 'not observed'}`),
        (['linger0', 'resetAndDestroy', 'linger-n', 'linger-n-blocked'] as const).map(rst),
      ),
      'linger-close-waits': all(
        atLeast(`close() with ${at('linger-n-blocked')?.sendQ ?? '?'} bytes undeliverable, l_linger ${seconds} s, took`, at('linger-n-blocked')?.closeMs, seconds * 900, 'ms'),
        caveat(atMost('... and returned within l_linger (+500 ms)', at('linger-n-blocked')?.closeMs, seconds * 1000 + 500, 'ms')),
      ),
    };
  },
  tables: ({ seconds, rows }) => [{
    title: 'Five ways to close',
    columns: ['close', 'close() took (ms)', 'client end right after', 'client end settled', 'RSTs sent', 'close() aborted', 'server saw'],
    rows: rows.map((r) => [HOW[r.mode].replace('%', String(seconds)), ...(r.evidence ? [r.evidence.closeMs, `${r.evidence.right}${r.evidence.sendQ ? ` (Send-Q ${r.evidence.sendQ})` : ''}`, r.evidence.settled, r.evidence.rsts, r.evidence.aborts, r.evidence.serverSaw].map(String) : [r.error ?? ''])]),
  }],
});
