// npm run bench -- churn: the harness's connection churn against a C program making the same system calls
// (scripts/churn.c, compiled here with the system compiler), side by side: every measurement in a fresh sandbox
// of the kind labs run in, C and harness alternating round by round; ratios are medians of per-round ratios.
import type { ChurnJob, ChurnMeasure } from './churn-worker.ts';
import { SANDBOX, compileChurn, inSandbox, machineLine, runOut, ratio, rate, stats, table } from './util.ts';

interface Scenario {
  name: string;
  /** what it stands for among the labs */
  labs: string;
  closer: 'client' | 'server';
  inFlight: number;
  request: number;
  response: number;
}

/** the ways labs churn; the request and response sizes are server-close-pileup's */
const SCENARIOS: Scenario[] = [
  { name: 'client closes', labs: 'TIME-WAIT fills on the client (time-wait-cost, max-tw-buckets, port-exhaustion)', closer: 'client', inFlight: 1, request: 0, response: 0 },
  { name: 'server closes', labs: 'TIME-WAIT fills on the server (time-wait-cost)', closer: 'server', inFlight: 1, request: 0, response: 0 },
  { name: 'pile-up', labs: 'request and response, 64 in flight, server closes (server-close-pileup)', closer: 'server', inFlight: 64, request: 29, response: 40 },
];

export interface ChurnOptions {
  connections: number;
  rounds: number;
  /** also measure Node's net module (the harness's churn before the libc loop) */
  before: boolean;
}

async function runC(binary: string, mode: 'settled' | 'bare', s: Scenario, n: number, warmup: number): Promise<ChurnMeasure> {
  const args = (count: number, port: number) => [binary, mode, s.closer, count, s.inFlight, s.request, s.response, port].join(' ');
  const script = `ip link set lo up && ${args(warmup, 9001)} >/dev/null && exec ${args(n, 9000)}`;
  const out = await runOut(SANDBOX[0], [...SANDBOX.slice(1), 'sh', '-c', script]);
  const m = JSON.parse(out.trim().split('\n').pop()!) as { connections: number; ns: number; cpuNs: number };
  return { connections: m.connections, ns: m.ns, cpuNs: m.cpuNs, distinctPorts: NaN };
}

const perSecond = (m: ChurnMeasure) => m.connections / (m.ns / 1e9);

export async function churnBench(o: ChurnOptions): Promise<void> {
  const { binary, compiler, remove } = await compileChurn();
  try {
    await measure(o, binary, compiler);
  } finally {
    remove();
  }
}

async function measure(o: ChurnOptions, binary: string, compiler: string): Promise<void> {
  // enough for the JIT to have compiled the churn loop before the timed part (the C program needs none)
  const warmup = Math.min(2000, Math.max(100, Math.round(o.connections / 4)));
  console.log(`bench churn: ${machineLine()}`);
  console.log(`  ${o.connections} connections per measurement after ${warmup} to warm up, ${o.rounds} round(s); each measurement in a fresh sandbox (unshare --user --map-root-user --net); C reference: scripts/churn.c built with ${compiler} -O2`);
  const rows: string[][] = [['scenario', 'harness', 'C, same calls', 'harness / C', 'CPU: C / harness', ...(o.before ? ['before (libuv)', 'before / C'] : [])]];
  const bare: number[] = [];
  for (const s of SCENARIOS) {
    const h: ChurnMeasure[] = [];
    const c: ChurnMeasure[] = [];
    const u: ChurnMeasure[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const job: ChurnJob = { kind: 'harness', closer: s.closer, n: o.connections, inFlight: s.inFlight, request: s.request, response: s.response, warmup };
      // alternate who goes first, so neither always meets the machine in the same state
      const pair = r % 2 === 0 ? [() => runC(binary, 'settled', s, o.connections, warmup), () => inSandbox<ChurnMeasure>('churn-worker.ts', job)] : [() => inSandbox<ChurnMeasure>('churn-worker.ts', job), () => runC(binary, 'settled', s, o.connections, warmup)];
      const first = await pair[0]();
      const second = await pair[1]();
      c.push(r % 2 === 0 ? first : second);
      h.push(r % 2 === 0 ? second : first);
      if (o.before) u.push(await inSandbox<ChurnMeasure>('churn-worker.ts', { ...job, kind: 'libuv' }));
      if (s === SCENARIOS[0]) bare.push(perSecond(await runC(binary, 'bare', s, o.connections, warmup)));
    }
    for (const m of [...h, ...c, ...u]) if (m.connections !== o.connections) throw new Error(`${s.name}: a run made ${m.connections} of ${o.connections} connections`);
    const perRound = h.map((m, i) => perSecond(m) / perSecond(c[i]));
    const cpu = h.map((m, i) => c[i].cpuNs / m.cpuNs);
    rows.push([
      s.name,
      rate(stats(h.map(perSecond)).median),
      rate(stats(c.map(perSecond)).median),
      ratio(stats(perRound).median),
      ratio(stats(cpu).median),
      ...(o.before ? [rate(stats(u.map(perSecond)).median), ratio(stats(u.map((m, i) => perSecond(m) / perSecond(c[i]))).median)] : []),
    ]);
  }
  console.log(table(rows).split('\n').map((l) => `  ${l}`).join('\n'));
  for (const s of SCENARIOS) console.log(`  ${s.name}: ${s.labs}`);
  console.log(`  connections per second are medians of ${o.rounds}; ratios are the median of per-round ratios (each round measures both, one after the other)`);
  console.log(`  C's bare loop (socket, connect, accept4, close, close: nothing waited for): ${rate(stats(bare).median)} for "client closes"`);
}
