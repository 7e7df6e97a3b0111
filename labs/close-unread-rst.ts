// Tests: close() on a socket whose receive buffer still holds unread data sends RST (not FIN), while close()
// after reading everything sends a normal FIN; and what the peer process then sees from read(2).
import type { LabContext } from '../harness/lab/context.ts';
import { startActors, checkActors, type Actor } from '../harness/actors/actors.ts';
import { withCounters } from '../harness/lab/counters.ts';
import { formatResult as fmt, type SyscallResult } from '../harness/actors/protocol.ts';
import { A003 } from '../harness/lab/articles.ts';
import { formatDelta, type Counters } from '../harness/kernel/counters.ts';
import { endIn, endsOf, stateIn } from '../harness/lab/endpoints.ts';
import { defineLab } from '../harness/lab/define.ts';

interface Case {
  name: 'unread' | 'all-read';
  clientPort: number;
  serverConn: number;
  clientConn: number;
  /** client's Recv-Q just before close() */
  recvQ: number;
  delta: Counters;
  /** states after close(): client side and server side of this connection ('absent' = ss no longer lists it) */
  clientAfter: string;
  serverAfter: string;
  serverRead: SyscallResult[];
}

async function runCase(ctx: LabContext, name: Case['name'], server: Actor, client: Actor, port: number, bytes: number): Promise<Case> {
  ctx.step(`${name}: the client connects, the server sends ${bytes} bytes, the client ${name === 'unread' ? 'reads nothing' : 'reads them all'}, then close()`);
  const c = await client.connect(port);
  const s = await server.accepted(c.localPort);
  const sent = await server.syswrite(s.conn, bytes);
  if (sent.ret !== bytes) throw new Error(`server send(2) of ${bytes} bytes returned ${fmt(sent)}`);
  const ends = endsOf(c.localPort, port);
  await ctx.waitSs(`${bytes} bytes in the client's receive queue`, (xs) => endIn(xs, ends.client)?.recvQ === bytes);
  if (name === 'all-read') {
    const r = await client.sysread(c.conn, bytes);
    ctx.event('syscall', `client recv(2) -> ${fmt(r)}`, { case: name, side: 'client', call: 'recv', ...r });
  }
  const before = await ctx.snapshot(`${name}: before close`, { processes: true, focus: { port: c.localPort } });
  const recvQ = endIn(before, ends.client)?.recvQ ?? -1;
  const { delta } = await withCounters(ctx, `${name}: client close()`, async () => {
    await client.request({ op: 'destroy', conn: c.conn });
    // settled: the server's end is gone (reset) or in CLOSE-WAIT (FIN received)
    await ctx.waitSs(`the server side of :${c.localPort} to react to close()`, (xs) => ['absent', 'CLOSE-WAIT'].includes(stateIn(xs, ends.server)));
  });
  const after = await ctx.snapshot(`${name}: after close`, { processes: true, focus: { port: c.localPort } });
  const clientAfter = stateIn(after, ends.client);
  const serverAfter = stateIn(after, ends.server);
  const serverRead: SyscallResult[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await server.sysread(s.conn);
    serverRead.push(r);
    ctx.event('syscall', `server recv(2) #${i + 1} -> ${fmt(r)}`, { case: name, side: 'server', call: 'recv', ...r });
  }
  await server.request({ op: 'destroy', conn: s.conn });
  return { name, clientPort: c.localPort, serverConn: s.conn, clientConn: c.conn, recvQ, delta, clientAfter, serverAfter, serverRead };
}

export default defineLab({
  name: 'close-unread-rst',
  title: 'close() with unread data sends RST; close() after reading everything sends FIN',
  description:
    'Two actor processes: a server that sends a few bytes and never closes on its own (allowHalfOpen, like a ' +
    'C program), and a client that either leaves the bytes unread in its receive buffer or reads them all, ' +
    'then calls close(). The Recv-Q before close, the states of both ends after it (ss -tanop), the RST and ' +
    'abort counters of the namespace (Tcp OutRsts, TcpExt TCPAbortOnClose), and what recv(2) returns to the ' +
    'server afterwards tell RST from FIN.',
  claims: [
    {
      id: 'unread-close-sends-rst',
      source: A003,
      statement: 'When the side that closes first still has unread data in its receive buffer, close() sends RST to tell the peer something went wrong.',
    },
    {
      id: 'read-close-sends-fin',
      source: A003,
      statement: 'When there is no unread data, close() is an ordinary close for the peer: a FIN is sent.',
    },
  ],
  options: {
    port: { type: 'number', min: 1024, max: 65000, default: 9300, describe: 'port the server actor listens on' },
    bytes: { type: 'number', min: 1, max: 60000, default: 1000, describe: 'bytes the server sends before the client closes' },
  },
  async run(ctx) {
    const port = ctx.options.port as number;
    const bytes = ctx.options.bytes as number;
    ctx.step('start two actor processes: server and client');
    const [server, client] = await startActors(ctx, ['server', 'client']);
    await server.listen(port, { allowHalfOpen: true });

    const unread = await runCase(ctx, 'unread', server, client, port, bytes);
    const read = await runCase(ctx, 'all-read', server, client, port, bytes);
    checkActors([server, client]);

    ctx.table({
      title: 'close() with and without unread data',
      columns: ['case', "client Recv-Q at close", 'counters', 'client end after', 'server end after', 'server recv #1', 'server recv #2'],
      rows: [unread, read].map((k) => [
        k.name, String(k.recvQ), formatDelta(k.delta), k.clientAfter, k.serverAfter, fmt(k.serverRead[0]), fmt(k.serverRead[1]),
      ]),
      note: 'counters are namespace-wide deltas around the close (Tcp.OutRsts = RST segments sent; TCPAbortOnClose = "closed with unread data").',
    });

    // verdicts from the observations
    {
      const k = unread;
      const rst = (k.delta['Tcp.OutRsts'] ?? 0) >= 1 && (k.delta['TcpExt.TCPAbortOnClose'] ?? 0) >= 1;
      const gone = k.clientAfter === 'absent' && k.serverAfter === 'absent';
      const reset = k.serverRead[0].errno === 'ECONNRESET';
      const obs = `Client had Recv-Q ${k.recvQ} at close(); counters: ${formatDelta(k.delta)}; after close the client end was ${k.clientAfter === 'absent' ? 'gone (no FIN-WAIT, no TIME-WAIT)' : k.clientAfter} and the server end ${k.serverAfter === 'absent' ? 'gone (no CLOSE-WAIT)' : k.serverAfter}; server recv(2): ${k.serverRead.map(fmt).join(', then ')}.`;
      if (k.recvQ !== bytes) ctx.verdict('unread-close-sends-rst', 'inconclusive', `the unread data was not seen in the client's Recv-Q before close (${k.recvQ}). ${obs}`);
      else ctx.verdict('unread-close-sends-rst', rst && gone && reset ? 'confirmed' : rst || reset ? 'partly' : 'refuted', obs);
    }
    {
      const k = read;
      const noRst = (k.delta['Tcp.OutRsts'] ?? 0) === 0;
      const fin = k.serverAfter === 'CLOSE-WAIT' && k.serverRead[0].ret === 0;
      const obs = `Client had Recv-Q ${k.recvQ} at close(); counters: ${formatDelta(k.delta)}; after close the client end was ${k.clientAfter === 'absent' ? 'gone' : k.clientAfter} and the server end ${k.serverAfter === 'absent' ? 'gone' : k.serverAfter}; server recv(2): ${k.serverRead.map(fmt).join(', then ')}.`;
      if (k.recvQ !== 0) ctx.verdict('read-close-sends-fin', 'inconclusive', `the client's Recv-Q was not empty before close (${k.recvQ}). ${obs}`);
      else ctx.verdict('read-close-sends-fin', noRst && fin ? 'confirmed' : 'refuted', obs);
    }
  },
});
