import lab from '../../labs/tw-reuse.ts';
import { judgeCases } from '../judge-cases.ts';

type Cell = { closeMs: number; lastFailAtMs?: number; reusedAfterMs?: number; failures: string[] };
const none: Cell = { closeMs: 14, lastFailAtMs: 2450, failures: ['EADDRNOTAVAIL'] };
const after = (ms: number): Cell => ({ closeMs: 14, lastFailAtMs: ms - 50, reusedAfterMs: ms, failures: ['EADDRNOTAVAIL'] });
/** Linux 6.x: reuse needs timestamps and tcp_tw_reuse 1 (2 = loopback only), after 1 s */
const linux = (topo: string, reuse: number, ts: number): Cell | null => (ts && (reuse === 1 || (reuse === 2 && topo === 'loopback')) ? after(1030) : none);
const run = (f: (topo: string, reuse: number, ts: number) => Cell | null = linux, o: { deadline?: number; reuse?: string; server?: object } = {}) => ({
  defaults: { reuse: o.reuse ?? '2', ts: '1', delay: '1000' },
  deadline: o.deadline ?? 2500,
  cells: ['loopback', 'two-host'].flatMap((topo) => [0, 1, 2].flatMap((reuse) => [0, 1].map((ts) => ({ topo, reuse, ts, ...(f(topo, reuse, ts) ? { evidence: f(topo, reuse, ts)! } : { error: 'no TIME-WAIT after 2000 ms' }) })))),
  delays: [{ delay: 200, evidence: after(251) }, { delay: 2500, evidence: after(2547) }],
  server: { reuse: '1', twSeen: 1, bind: 'EADDRINUSE', ...o.server },
});

export default judgeCases('tw-reuse', lab, [
  { name: 'Linux 6.x', evidence: run(), expect: { 'reuse-after-1s': 'confirmed', 'reuse-needs-timestamps': 'confirmed', 'reuse-client-only': 'confirmed', 'tw-reuse-remedy': 'partly' } },
  { name: 'a kernel with the article\'s default 0', evidence: run(linux, { reuse: '0' }), expect: { 'tw-reuse-remedy': 'confirmed' } },
  {
    name: 'reuse at once, without timestamps, for the server too; never with tcp_tw_reuse=1: all refuted',
    evidence: run((topo, reuse) => (reuse === 1 ? none : after(60)), { reuse: '1', server: { bind: 'ok' } }),
    expect: { 'reuse-after-1s': 'refuted', 'reuse-needs-timestamps': 'refuted', 'reuse-client-only': 'refuted', 'tw-reuse-remedy': 'refuted' },
  },
  {
    name: '--deadline 500: the watch ended before 1 s, so "after 1 s" is inconclusive (not refuted)',
    options: { deadline: 500 },
    evidence: run((topo, reuse, ts) => (linux(topo, reuse, ts)!.reusedAfterMs ? { ...none, lastFailAtMs: 450 } : none), { deadline: 500 }),
    expect: { 'reuse-after-1s': 'inconclusive', 'reuse-needs-timestamps': 'inconclusive', 'reuse-client-only': 'inconclusive', 'tw-reuse-remedy': 'inconclusive' },
    observed: { 'reuse-after-1s': /the watch ended at 500 ms/ },
  },
  {
    name: "the server side's tcp_tw_reuse read back 0: the claim about it is not answered",
    evidence: run(linux, { server: { reuse: '0' } }),
    expect: { 'reuse-client-only': 'inconclusive' },
  },
  {
    name: 'a slow machine saw the TIME-WAIT only after the reuse point: the first connect() reused it, so "after 1 s" is inconclusive',
    evidence: run((topo, reuse, ts) => (topo === 'two-host' && reuse === 1 && ts === 1 ? { closeMs: 1762, failures: [], reusedAfterMs: 4951 } : linux(topo, reuse, ts))),
    expect: { 'reuse-after-1s': 'inconclusive', 'reuse-needs-timestamps': 'confirmed', 'reuse-client-only': 'confirmed', 'tw-reuse-remedy': 'partly' },
    observed: { 'reuse-after-1s': /already reused it: the TIME-WAIT was seen too late/ },
  },
  { name: 'the two-host cell did not run: inconclusive', evidence: run((topo, reuse, ts) => (topo === 'two-host' && reuse === 1 && ts === 1 ? null : linux(topo, reuse, ts))), expect: { 'reuse-after-1s': 'inconclusive', 'tw-reuse-remedy': 'inconclusive' } },
]);
