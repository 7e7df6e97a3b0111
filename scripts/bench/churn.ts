// npm run bench -- churn: the harness's connection churn against a C program making the same system calls
// (scripts/churn.c, compiled here with the system compiler), side by side. Each round starts both in fresh
// sandboxes of the kind labs run in and has them take turns, a chunk of connections each, alternating who goes
// first: the two meet the machine in the same state within tens of milliseconds, so its drift (on a VM here,
// identical C runs a few seconds apart differ by up to 30%) cancels out of each pair's ratio. Ratios are
// medians of the per-pair ratios.
import type { ChurnJob, ChurnMeasure } from './churn-worker.ts';
import { Asked, SANDBOX, compileChurn, inSandbox, machineLine, runOut, ratio, rate, sandboxedWorker, stats, table } from './util.ts';

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
  /** per round and side */
  connections: number;
  /** connections per turn */
  chunk: number;
  rounds: number;
  /** also measure Node's net module (the harness's churn before the libc loop) */
  before: boolean;
}

/** scripts/churn.c's command line ('-' for the count: counts from stdin, one churn each) */
const cArgs = (binary: string, mode: 'settled' | 'bare', s: Scenario, count: number | '-', port: number) => [binary, mode, s.closer, count, s.inFlight, s.request, s.response, port].join(' ');

async function runC(binary: string, mode: 'settled' | 'bare', s: Scenario, n: number, warmup: number): Promise<ChurnMeasure> {
  const script = `ip link set lo up && ${cArgs(binary, mode, s, warmup, 9001)} >/dev/null && exec ${cArgs(binary, mode, s, n, 9000)}`;
  const out = await runOut(SANDBOX[0], [...SANDBOX.slice(1), 'sh', '-c', script]);
  const m = JSON.parse(out.trim().split('\n').pop()!) as { connections: number; ns: number; cpuNs: number };
  if (m.connections !== n) throw new Error(`${s.name}: the C program's ${mode} loop made ${m.connections} of ${n} connections`);
  return { connections: m.connections, ns: m.ns, cpuNs: m.cpuNs, distinctPorts: NaN };
}

const perSecond = (m: ChurnMeasure) => m.connections / (m.ns / 1e9);
const total = (ms: readonly ChurnMeasure[]): ChurnMeasure => ms.reduce((t, m) => ({ connections: t.connections + m.connections, ns: t.ns + m.ns, cpuNs: t.cpuNs + m.cpuNs, distinctPorts: NaN }), { connections: 0, ns: 0, cpuNs: 0, distinctPorts: NaN });

interface Pair {
  c: ChurnMeasure;
  h: ChurnMeasure;
}

/** One round: C and the harness in fresh sandboxes, a warm-up each, then turns of `chunk` connections. */
async function round(binary: string, s: Scenario, o: ChurnOptions, warmup: number, r: number): Promise<Pair[]> {
  const job: ChurnJob = { kind: 'harness', closer: s.closer, n: o.connections, inFlight: s.inFlight, request: s.request, response: s.response, warmup, chunked: true };
  const started: Asked<ChurnMeasure>[] = [];
  try {
    const c = new Asked<ChurnMeasure>('the C churn', SANDBOX[0], [...SANDBOX.slice(1), 'sh', '-c', `ip link set lo up && exec ${cArgs(binary, 'settled', s, '-', 9000)}`]);
    started.push(c);
    const h = new Asked<ChurnMeasure>('the harness churn', SANDBOX[0], sandboxedWorker('churn-worker.ts', job));
    started.push(h);
    const turn = async (who: Asked<ChurnMeasure>, n: number) => {
      const m = await who.ask(String(n));
      if (m.connections !== n) throw new Error(`${s.name}: a turn of ${n} connections made ${m.connections}`);
      return m;
    };
    await turn(c, warmup);
    await turn(h, warmup);
    const pairs: Pair[] = [];
    for (let done = 0, i = 0; done < o.connections; i++) {
      const n = Math.min(o.chunk, o.connections - done);
      // alternate who goes first, so neither always follows the other
      if ((i + r) % 2 === 0) pairs.push({ c: await turn(c, n), h: await turn(h, n) });
      else {
        const hm = await turn(h, n);
        pairs.push({ c: await turn(c, n), h: hm });
      }
      done += n;
    }
    await Promise.all([c.end(), h.end()]);
    return pairs;
  } catch (e) {
    for (const p of started) p.kill();
    throw e;
  }
}

/** The q-quantile of sorted values, interpolated between the nearest ranks (as stats() takes the median). */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
}

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
  console.log(`  ${o.rounds} round(s), each with the harness and C in fresh sandboxes (unshare --user --map-root-user --net), ${warmup} connections each to warm up, then turns of ${o.chunk} until each made ${o.connections}; C reference: scripts/churn.c built with ${compiler} -O2`);
  const rows: string[][] = [['scenario', 'harness', 'C, same calls', 'harness / C', 'middle half', 'CPU: C / harness', ...(o.before ? ['before (libuv)', 'before / C'] : [])]];
  const bare: number[] = [];
  for (const s of SCENARIOS) {
    const pairs: Pair[] = [];
    const u: number[] = [];
    const uc: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const got = await round(binary, s, o, warmup, r);
      pairs.push(...got);
      const job: ChurnJob = { kind: 'libuv', closer: s.closer, n: o.connections, inFlight: s.inFlight, request: s.request, response: s.response, warmup };
      if (o.before) {
        const m = await inSandbox<ChurnMeasure>('churn-worker.ts', job);
        if (m.connections !== o.connections) throw new Error(`${s.name}: Node's net module made ${m.connections} of ${o.connections} connections`);
        u.push(perSecond(m));
        uc.push(perSecond(m) / perSecond(total(got.map((p) => p.c))));
      }
      if (s === SCENARIOS[0]) bare.push(perSecond(await runC(binary, 'bare', s, o.connections, warmup)));
    }
    const perPair = pairs.map((p) => perSecond(p.h) / perSecond(p.c)).sort((a, b) => a - b);
    const [h, c] = [total(pairs.map((p) => p.h)), total(pairs.map((p) => p.c))];
    rows.push([
      s.name,
      rate(perSecond(h)),
      rate(perSecond(c)),
      ratio(stats(perPair).median),
      `${ratio(quantile(perPair, 0.25))}-${ratio(quantile(perPair, 0.75))}`,
      ratio(c.cpuNs / h.cpuNs),
      ...(o.before ? [rate(stats(u).median), ratio(stats(uc).median)] : []),
    ]);
  }
  console.log(table(rows).split('\n').map((l) => `  ${l}`).join('\n'));
  for (const s of SCENARIOS) console.log(`  ${s.name}: ${s.labs}`);
  console.log(`  connections per second over all turns; harness / C is the median of the ${Math.ceil(o.connections / o.chunk) * o.rounds} per-pair ratios (each pair: one turn each, one after the other), the middle half their 25th to 75th percentile`);
  if (o.before) console.log(`  before (libuv): Node's net module, one run of ${o.connections} a round after the turns (not in turns), against C's rate over that round's turns`);
  console.log(`  C's bare loop (socket, connect, accept4, close, close: nothing waited for): ${rate(stats(bare).median)} for "client closes"`);
}
