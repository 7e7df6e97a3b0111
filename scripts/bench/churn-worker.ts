// Runs inside a fresh sandbox for `npm run bench -- churn`: a warm-up, then one timed churn of short loopback
// connections, the way the labs churn (the `churn` fixture) or the way they did before it (Node's net module,
// one connection at a time through the event loop). Prints one JSON line: connections, wall and CPU time. With
// `chunked`, it reads counts from stdin instead, one a line, and churns that many on one listener for each,
// printing a line each, until stdin ends (the bench's turns with the C program, scripts/churn.c with "-").
import { execFileSync } from 'node:child_process';
import type net from 'node:net';
import { createInterface } from 'node:readline';
import { churn } from '../../harness/lab/fixtures.ts';
import { closeActively, connect, listen, type Listener } from '../../harness/kernel/sockets.ts';

export interface ChurnJob {
  /** harness: the churn fixture (libc calls); libuv: net.connect and socket.end, as the harness did before */
  kind: 'harness' | 'libuv';
  closer: 'client' | 'server';
  n: number;
  inFlight: number;
  request: number;
  response: number;
  warmup: number;
  /** counts from stdin, one churn each on the same listener (harness only) */
  chunked?: boolean;
}

export interface ChurnMeasure {
  connections: number;
  ns: number;
  cpuNs: number;
  distinctPorts: number;
}

/** The harness's churn before harness/kernel/churn.ts: what a lab did with Node's net module (one at a time). */
async function libuvChurn(listener: Listener, n: number, closer: 'client' | 'server'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const client = await connect(listener.attempt.port, listener.attempt.host);
    const server = await listener.nextConnection();
    ports.push(client.localPort!);
    const [first, second] = closer === 'client' ? [client, server] : [server, client];
    await Promise.all([closeActively(first), new Promise((r) => (second.destroyed ? r(null) : second.once('close', r)))]);
  }
  return ports;
}

/** server-close-pileup before the churn fixture: `inFlight` clients, each a request and a response per connection. */
async function libuvRequests(listener: Listener, job: ChurnJob): Promise<number[]> {
  const response = Buffer.alloc(job.response, 0x61);
  listener.server.on('connection', (s: net.Socket) => s.on('data', () => (job.closer === 'server' ? s.end(response) : s.write(response))));
  const ports: number[] = [];
  let next = 0;
  const one = async () => {
    const s = await connect(listener.attempt.port, listener.attempt.host);
    ports.push(s.localPort!);
    await new Promise<void>((resolve) => {
      s.once('data', () => {
        s.once('close', () => resolve());
        if (job.closer === 'client') s.end(); // the server closing: Node answers its FIN (allowHalfOpen off)
      });
      s.write(Buffer.alloc(job.request, 0x61));
    });
  };
  await Promise.all(Array.from({ length: Math.min(job.inFlight, job.n) }, async () => { while (next++ < job.n) await one(); }));
  return ports;
}

/** One churn on the listener; the time and CPU of the churn alone (not the listener's set-up), as churn.c times it. */
async function measure(job: ChurnJob, l: Listener, n: number): Promise<ChurnMeasure> {
  const bytes = (len: number) => (len ? Buffer.alloc(len, 0x61) : undefined);
  const opts = { closer: job.closer, inFlight: job.inFlight, request: bytes(job.request), response: bytes(job.response) };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const ports =
    job.kind === 'harness' ? (await churn(l, n, opts)).ports
    : job.request || job.response ? await libuvRequests(l, { ...job, n })
    : await libuvChurn(l, n, job.closer);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { connections: ports.length, ns, cpuNs: (cpu.user + cpu.system) * 1000, distinctPorts: new Set(ports).size };
}

/** One churn on a fresh listener. */
async function once(job: ChurnJob, port: number, n: number): Promise<ChurnMeasure> {
  const l = await listen({ host: '127.0.0.1', port, backlog: 4096 });
  try {
    return await measure(job, l, n);
  } finally {
    await l.close();
  }
}

/** A churn per count read from stdin, all on one listener, a result line each. */
async function chunks(job: ChurnJob): Promise<void> {
  const l = await listen({ host: '127.0.0.1', port: 9000, backlog: 4096 });
  try {
    for await (const line of createInterface({ input: process.stdin })) {
      const n = Number(line);
      if (!Number.isInteger(n) || n < 1) throw new Error(`churn-worker: not a count: ${line}`);
      const m = await measure(job, l, n);
      await new Promise((r) => process.stdout.write(`${JSON.stringify(m)}\n`, r));
    }
  } finally {
    await l.close();
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as ChurnJob;
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  if (job.chunked) {
    await chunks(job);
    process.exit(0);
  }
  if (job.warmup > 0) await once(job, 9001, job.warmup);
  const result = await once(job, 9000, job.n);
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

// the bench shows the last stderr line of a worker that failed: make it the error, not Node's version line
main().catch((e: unknown) => {
  process.stderr.write(`churn-worker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
