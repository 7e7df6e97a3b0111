// Does a FIN (like a SYN) consume one sequence number? Read from the kernel's own acknowledged-bytes counter.
import { A001, LOOPBACK, all, defineLab, is, need, pair, until, waitForEnd } from '../harness/index.ts';

export default defineLab({
  title: 'A FIN consumes one sequence number',
  setup:
    "A client sends 5 bytes and then its FIN to a peer that acknowledges both. After each step the lab reads the " +
    "client socket's TCP_INFO through ss -ti: bytes_sent (data only) and bytes_acked, which the kernel advances by " +
    'every sequence number the peer acknowledges (the SYN counts one).',
  claims: {
    'fin-takes-one-seq': [A001, 'A FIN consumes one sequence number, just as a SYN does, so the peer acknowledges it with the FIN\'s sequence number plus one.'],
  },
  async run(ctx) {
    const p = await pair(ctx);
    const info = async () => {
      const out = await ctx.host.exec('ss', ['-tinH', `sport = :${p.clientPort}`]);
      const n = (k: string) => Number(new RegExp(`${k}:(\\d+)`).exec(out)?.[1] ?? NaN);
      return { sent: n('bytes_sent') || 0, acked: n('bytes_acked') };
    };
    const handshake = await info();
    ctx.step('the client sends 5 bytes');
    p.client.write('hello');
    const data = await until(async () => ((i) => (i.acked >= handshake.acked + 5 ? { done: true as const, value: i } : { done: false as const, last: i }))(await info()), { what: 'the 5 bytes acknowledged (ss -ti bytes_acked)', timeoutMs: 2000, signal: ctx.signal, describe: (l) => JSON.stringify(l) });
    ctx.step('the client sends its FIN (shutdown); the peer acknowledges it');
    p.client.end();
    await waitForEnd(ctx, p.ends.client, 'FIN-WAIT-2', { label: 'FIN acknowledged: FIN-WAIT-2' });
    const fin = await info();
    ctx.event('tcp-info', `bytes_sent / bytes_acked: after the handshake ${handshake.sent}/${handshake.acked}, after 5 bytes ${data.sent}/${data.acked}, after the FIN ${fin.sent}/${fin.acked}`, { handshake, data, fin, host: LOOPBACK });
    return { handshake, data, fin };
  },
  judge: ({ handshake, data, fin }) => ({
    'fin-takes-one-seq': all(
      need('5 data bytes were sent and acknowledged before the FIN', data.sent === 5 && data.acked === handshake.acked + 5, `bytes_sent ${data.sent}, bytes_acked ${handshake.acked} -> ${data.acked}`),
      is('sequence numbers the SYN took (bytes_acked after the handshake)', handshake.acked, 1),
      is(`sequence numbers the FIN took (bytes_acked ${data.acked} -> ${fin.acked} with bytes_sent still ${fin.sent})`, fin.acked - data.acked, 1),
      is('data bytes sent with the FIN', fin.sent - data.sent, 0),
    ),
  }),
});
