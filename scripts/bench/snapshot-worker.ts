// Runs inside a fresh sandbox for `npm run bench -- snapshot`: makes N TIME-WAIT sockets (client-closed
// loopback connections; the port range widened, TIME-WAIT reuse off, so each keeps its own), then times
// readSockets (output parsed after ss ends, or while it prints), a recorded snapshot (as the runner records
// one today, or streamed with only its live view sent over IPC), the parse alone (fast and general parser)
// and filtered reads, each right beside a run of `ss -tanoH` alone. Prints one JSON line.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readSockets, type ReadOptions, type StreamingHost } from '../../harness/evidence/read.ts';
import { streamRun } from '../../harness/kernel/stream.ts';
import { parseSs, parseSsLineGeneral } from '../../harness/evidence/ss.ts';
import { localHost } from '../../harness/kernel/host.ts';
import { listen } from '../../harness/kernel/sockets.ts';
import { liveView } from '../../harness/evidence/live.ts';
import { LabContext, type LabMessage } from '../../harness/lab/context.ts';
import { churn } from '../../harness/lab/fixtures.ts';
import { filterSockets, type SockFilter } from '../../harness/evidence/census.ts';

export interface SnapshotJob {
  sockets: number;
  rounds: number;
}

export const KINDS = ['ssPipe', 'ssNull', 'exec', 'read', 'readStream', 'snapshot', 'snapshotLive', 'parse', 'parseGeneral', 'pollFiltered', 'pollFull', 'stateOnly', 'waitPoll', 'waitLabelled', 'waitUnhinted'] as const;
export type Kind = (typeof KINDS)[number];

export interface SnapshotResult {
  sockets: number;
  bytes: number;
  /** what the filtered poll asked the kernel for, and how many sockets it got */
  poll: { args: string; matched: number };
  stateOnlyMatched: number;
  /** sockets the filtered wait returned (the polled ones) */
  waited: number;
  /** rounds measured (fewer than asked when another would have outlasted the TIME-WAIT sockets) */
  rounds: number;
  /** sockets at the end (TIME-WAIT lasts 60 s: the measurements must end before they expire) */
  socketsAfter: number;
  ms: Record<Kind, number[]>;
  /** each kind's time over the ss alone measured right beside it */
  ratios: Record<Kind, number[]>;
}

// below the widened ephemeral range, so the churn cannot have taken them
const FILL_PORT = 800;
const POLL_PORT = 801;
const POLLED = 4;

/** ss spawned directly, its output drained through a pipe (to /dev/null with `toNull`): the reference cost. */
function ssAlone(toNull: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn('ss', ['-tanoH'], { stdio: ['ignore', toNull ? 'ignore' : 'pipe', 'ignore'] });
    let bytes = 0;
    c.stdout?.on('data', (b: Buffer) => (bytes += b.length));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`ss exited ${code}`))));
  });
}

/** one measurement, from a collected heap (so none pays for the garbage of the one before) */
async function time(fn: () => unknown): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 20)); // the collector's helper threads finish first
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const job = JSON.parse(process.argv[2] ?? '{}') as SnapshotJob;
execFileSync('ip', ['link', 'set', 'lo', 'up']);
writeFileSync('/proc/sys/net/ipv4/ip_local_port_range', '1024 65535');
writeFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', '0');
const host = localHost('sandbox');
// the host as proposed for host.ts: its commands' output streamed, so readSockets parses while ss prints
const streaming: StreamingHost = { ...host, stream: (file, args, onText) => streamRun(file, args, onText) };
const fill = await listen({ host: '127.0.0.1', port: FILL_PORT, backlog: 4096 });
const filledFrom = performance.now();
await churn(fill, job.sockets, 'client');
const target = await listen({ host: '127.0.0.1', port: POLL_PORT });
await churn(target, POLLED, 'client');

const ac = new AbortController();
const send = (m: unknown) => void (process.connected && process.send!(m as object));
// the runner's emit today: every message to the parent over IPC, a snapshot with all its records (runs/runner.ts)
const ctx = new LabContext(host, ac.signal, send);
// the emit proposed for the runner: a snapshot's live view (census, focused count, first lines) instead
const live = (m: LabMessage) => {
  if (m.type !== 'snapshot') return send(m);
  const v = liveView(m.snapshot.sockets, m.focus);
  send({ ...m, snapshot: { ...m.snapshot, sockets: v.sockets }, census: v.census, matched: v.matched });
};
const ctxLive = new LabContext(streaming, ac.signal, live);
const pollOpts: ReadOptions = { states: ['TIME-WAIT'], peerPorts: [POLL_PORT] };
const pollFilter: SockFilter = { state: 'TIME-WAIT', peerPort: POLL_PORT };
let waited = 0;
const ms = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
const ratios = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
let text = '';
let bytes = 0;
let matched = 0;
let stateOnly = 0;
const kinds: Record<Kind, () => Promise<unknown>> = {
  ssPipe: async () => (bytes = await ssAlone(false)),
  ssNull: () => ssAlone(true),
  exec: () => host.exec('ss', ['-tanoH']),
  read: () => readSockets(host),
  readStream: () => readSockets(streaming),
  snapshot: async () => {
    await ctx.snapshot('bench', { focus: { port: POLL_PORT } });
    ctx.snapshots.length = 0;
  },
  snapshotLive: async () => {
    await ctxLive.snapshot('bench', { focus: { port: POLL_PORT } });
    ctxLive.snapshots.length = 0;
  },
  parse: async () => parseSs(text),
  parseGeneral: async () => text.split('\n').filter((l) => l.trim()).map(parseSsLineGeneral),
  pollFiltered: async () => (matched = (await readSockets(host, pollOpts)).length),
  pollFull: async () => (await readSockets(host)).filter((s) => s.state === 'TIME-WAIT' && s.peer.endsWith(`:${POLL_PORT}`)).length,
  stateOnly: async () => (stateOnly = (await readSockets(host, { states: ['TIME-WAIT'] })).length),
  // the waits as labs call them, each satisfied by its first poll: what one poll of a wait costs
  waitPoll: async () => (waited = (await ctxLive.waitForSockets('bench', pollFilter, { count: POLLED })).length),
  waitLabelled: async () => {
    await ctxLive.waitForSockets('bench', pollFilter, { count: POLLED, label: 'bench' });
    ctxLive.snapshots.length = 0;
  },
  waitUnhinted: () => ctxLive.waitSs('bench', (xs) => filterSockets(xs, pollFilter).length >= POLLED),
};
text = await host.exec('ss', ['-tanoH']);
// the first TIME-WAIT sockets expire 60 s after the churn began: no round may start that would end after that
const expires = filledFrom + 55_000;
let rounds = 0;
let roundMs = 0;
for (let r = 0; r < job.rounds; r++) {
  const started = performance.now();
  if (r > 0 && started + roundMs > expires) break;
  rounds++;
  // each kind right next to its own ss alone (in alternating order): the pair sees the same machine
  for (const k of KINDS) {
    if (k === 'ssPipe') continue;
    const [first, second]: Kind[] = r % 2 ? [k, 'ssPipe'] : ['ssPipe', k];
    const a = await time(kinds[first]);
    const b = await time(kinds[second]);
    ms[first].push(a);
    ms[second].push(b);
    ratios[k].push((first === k ? a : b) / (first === k ? b : a));
  }
  roundMs = Math.max(roundMs, performance.now() - started);
}
const after = (await readSockets(host)).length;
const result: SnapshotResult = {
  sockets: parseSs(text).length,
  socketsAfter: after,
  bytes,
  poll: { args: `ss -tanoH state time-wait ( dport = :${POLL_PORT} )`, matched },
  stateOnlyMatched: stateOnly,
  waited,
  rounds,
  ms,
  ratios,
};
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
