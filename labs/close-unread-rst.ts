// close() with unread data in the receive buffer: does it send RST instead of FIN?
import { A003, all, atLeast, checkActors, defineLab, endIn, endsOf, formatResult, int, is, need, startActors, stateIn } from '../harness/index.ts';

const CASES = ['unread', 'all-read'] as const;

export default defineLab({
  title: 'close() with unread data sends RST; close() after reading everything sends FIN',
  setup:
    'Two actor processes: a server that sends some bytes and never closes on its own (allowHalfOpen, like a C ' +
    'program), and a client that leaves them unread in its receive buffer, or reads them all, then calls close(). ' +
    "The client's Recv-Q before close, both ends' states after it, the namespace's RST and abort counters around " +
    "it, and what the server's recv(2) returns afterwards tell RST from FIN.",
  claims: {
    'unread-close-sends-rst': [A003, 'When the side that closes first still has unread data in its receive buffer, close() sends RST to tell the peer something went wrong.'],
    'read-close-sends-fin': [A003, 'When nothing is left unread, close() is an ordinary close for the peer: a FIN is sent.'],
  },
  options: { bytes: int(1, 60000, 1000, 'bytes the server sends before the client closes', 'bytes') },
  async run(ctx, o) {
    ctx.step('start two actor processes: server and client');
    const [server, client] = await startActors(ctx, ['server', 'client']);
    const port = ctx.port();
    await server.listen(port, { allowHalfOpen: true });
    const cases = await ctx.matrix({ name: CASES }, async ({ name }) => {
      ctx.step(`${name}: the server sends ${o.bytes} bytes, the client ${name === 'unread' ? 'reads nothing' : 'reads them all'}, then close()`);
      const c = await client.connect(port);
      const s = await server.accepted(c.localPort, port);
      await server.syswrite(s.conn, o.bytes);
      const ends = endsOf(c.localPort, port);
      await ctx.waitSs(`${o.bytes} bytes in the client's receive queue`, (xs) => endIn(xs, ends.client)?.recvQ === o.bytes);
      if (name === 'all-read') await client.sysread(c.conn, o.bytes);
      const before = await ctx.snapshot(`${name}: before close`, { focus: { port: c.localPort } });
      const { delta } = await ctx.counters(`${name}: client close()`, async () => {
        await client.request({ op: 'destroy', conn: c.conn });
        await ctx.waitSs(`the server end of :${c.localPort} to react`, (xs) => ['absent', 'CLOSE-WAIT'].includes(stateIn(xs, ends.server)));
      });
      const after = await ctx.snapshot(`${name}: after close`, { focus: { port: c.localPort } });
      const reads = [formatResult(await server.sysread(s.conn)), formatResult(await server.sysread(s.conn))];
      ctx.event('syscall', `${name}: server recv(2) -> ${reads.join(', then ')}`, { name, reads });
      await server.request({ op: 'destroy', conn: s.conn });
      return {
        recvQ: endIn(before, ends.client)?.recvQ ?? -1,
        rsts: delta['Tcp.OutRsts'] ?? 0,
        abortOnClose: delta['TcpExt.TCPAbortOnClose'] ?? 0,
        clientAfter: stateIn(after, ends.client),
        serverAfter: stateIn(after, ends.server),
        reads,
      };
    });
    checkActors([server, client]);
    return { bytes: o.bytes, cases };
  },
  judge: ({ bytes, cases }) => {
    const [u, r] = CASES.map((name) => cases.find((c) => c.name === name)?.evidence);
    return {
      'unread-close-sends-rst': all(
        need(`${bytes} bytes unread in the client's Recv-Q at close()`, u?.recvQ === bytes, `Recv-Q at close: ${u?.recvQ ?? 'not observed'}`),
        atLeast('RST segments sent (Tcp.OutRsts)', u?.rsts, 1),
        atLeast('TcpExt.TCPAbortOnClose', u?.abortOnClose, 1),
        is("the server's end after close (no CLOSE-WAIT)", u?.serverAfter, 'absent'),
        is("the server's next recv(2)", u?.reads[0], '-1 ECONNRESET'),
      ),
      'read-close-sends-fin': all(
        need("the client's Recv-Q empty at close()", r?.recvQ === 0, `Recv-Q at close: ${r?.recvQ ?? 'not observed'}`),
        is('RST segments sent (Tcp.OutRsts)', r?.rsts, 0),
        is("the server's end after close", r?.serverAfter, 'CLOSE-WAIT'),
        is("the server's next recv(2)", r?.reads[0], '0 (EOF)'),
      ),
    };
  },
  tables: ({ cases }) => [
    {
      title: 'close() with and without unread data',
      columns: ['case', 'client Recv-Q at close', 'Tcp.OutRsts', 'TCPAbortOnClose', 'client end after', 'server end after', 'server recv(2)'],
      rows: cases.map((c) => [c.name, ...(c.evidence ? [c.evidence.recvQ, c.evidence.rsts, c.evidence.abortOnClose, c.evidence.clientAfter, c.evidence.serverAfter, c.evidence.reads.join(', then ')].map(String) : [c.error ?? 'not run'])]),
      note: 'Counters are namespace-wide deltas around the close; "absent" = ss no longer lists the socket.',
    },
  ],
});
