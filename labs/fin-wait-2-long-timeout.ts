// With tcp_fin_timeout above 60 s, which timer does an orphaned FIN-WAIT-2 show first?
import { A003, all, because, check, defineLab, endIn, int, is, pair, waitForEnd } from '../harness/index.ts';

export default defineLab({
  title: 'tcp_fin_timeout above 60 s: an orphaned FIN-WAIT-2 first shows a keepalive timer of (timeout - 60 s)',
  seconds: 4,
  setup:
    'tcp_fin_timeout is set above 60 s inside the sandbox. A client closes its end of a connection whose peer never ' +
    'sends its FIN, so the orphaned client socket sits in FIN-WAIT-2; ss shows which timer the kernel armed on it ' +
    'and how much time it has left.',
  claims: {
    'long-fin-timeout-keepalive-timer': [A003, 'When tcp_fin_timeout is above 60 s, an orphaned FIN_WAIT_2 socket is first held by a keepalive timer of (tcp_fin_timeout - 60 s), and only then by the FIN_WAIT_2 timer itself.'],
  },
  options: { 'fin-timeout': int(61, 120, 62, 'tcp_fin_timeout set inside the sandbox (above 60; the lab waits out the part above 60 s)', 's') },
  async run(ctx, o) {
    const finTimeout = Number(await ctx.sysctl('net.ipv4.tcp_fin_timeout', String(o['fin-timeout'])));
    const p = await pair(ctx);
    ctx.step('the client closes; the server never sends its FIN');
    p.client.destroy();
    const snap = await waitForEnd(ctx, p.ends.client, 'FIN-WAIT-2', { label: 'orphaned FIN-WAIT-2' });
    const timer = endIn(snap, p.ends.client)?.timer;
    ctx.step('wait for that timer to fire and the next one to take over');
    const after = await ctx.waitSs('the next timer on the orphan', (xs) => endIn(xs, p.ends.client)?.timer?.name !== 'keepalive', { timeoutMs: (finTimeout - 60 + 3) * 1000, intervalMs: 100, progress: true, label: 'after the keepalive timer' });
    const next = endIn(after, p.ends.client);
    const gone = await ctx.waitSs('the orphan to go', (xs) => !endIn(xs, p.ends.client), { timeoutMs: (finTimeout - 60 + 3) * 1000 + 60_000, intervalMs: 100, progress: true, label: 'orphan gone' });
    return {
      lifeMs: gone.atMs - snap.atMs, finTimeout, timer: timer?.name ?? 'none', remainingMs: timer?.remainingMs, raw: timer?.raw, nextState: next?.state ?? 'absent', next: next ? next.timer?.name ?? 'none' : 'gone', nextMs: next?.timer?.remainingMs, nextRaw: next?.timer?.raw };
  },
  judge: (ev) => ({
    'long-fin-timeout-keepalive-timer': because(all(
      is(`the timer ss shows on the orphan (${ev.raw ?? 'none'})`, ev.timer, 'keepalive'),
      check(`its time left, with tcp_fin_timeout = ${ev.finTimeout} s`, ev.timer === 'none' ? 'no timer' : ev.remainingMs, `${(ev.finTimeout - 61) * 1000}-${(ev.finTimeout - 60) * 1000} ms`, ev.remainingMs !== undefined && ev.remainingMs >= (ev.finTimeout - 61) * 1000 && ev.remainingMs <= (ev.finTimeout - 60) * 1000, 'ms'),
      is(`the timer after it (${ev.nextState}, ${ev.nextRaw ?? 'none'})`, ev.next, 'timewait'),
    ), `The orphan was gone ${ev.lifeMs} ms after it was first seen in FIN-WAIT-2 (the second timer started with ${ev.nextMs ?? '?'} ms).`),
  }),
});
