// npm run bench -- snapshot: with N sockets present (default 30,000), what a snapshot costs next to running
// `ss -tanoH` alone, and what a wait's filtered poll costs next to a full read. One sandbox, every kind measured
// once per round in rotating order; medians.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Kind, SnapshotJob, SnapshotResult } from './snapshot-worker.ts';
import { ROOT, SANDBOX, machineLine, ms, ratio, stats, table } from './util.ts';

export interface SnapshotOptions {
  sockets: number;
  rounds: number;
}

/** The worker in a fresh sandbox, with an IPC channel as the runner has (the snapshot's emit goes over it). */
function runWorker(input: SnapshotJob): Promise<SnapshotResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(SANDBOX[0], [...SANDBOX.slice(1), process.execPath, '--expose-gc', '--import', 'tsx', path.join(ROOT, 'scripts/bench/snapshot-worker.ts'), JSON.stringify(input)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '';
    let err = '';
    let messages = 0;
    c.on('message', () => messages++); // what the CLI would show live; counted, then dropped
    c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`snapshot worker exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as SnapshotResult);
      } catch {
        reject(new Error(`snapshot worker printed no result: ${out.slice(-300)}`));
      }
    });
  });
}

export async function snapshotBench(o: SnapshotOptions): Promise<void> {
  console.log(`bench snapshot: ${machineLine()}`);
  const r = await runWorker({ sockets: o.sockets, rounds: o.rounds });
  const m = (k: Kind) => stats(r.ms[k]).median;
  const x = (k: Kind) => (k === 'ssPipe' ? 1 : stats(r.ratios[k]).median);
  const row = (label: string, k: Kind) => [label, ms(m(k)), ratio(x(k))];
  console.log(`  ${r.sockets.toLocaleString('en-US')} sockets (${o.sockets.toLocaleString('en-US')} TIME-WAIT, a listener and ${r.poll.matched} TIME-WAIT to the polled port; ${r.socketsAfter.toLocaleString('en-US')} at the end), ${(r.bytes / 1e6).toFixed(1)} MB of ss output`);
  console.log(table([
    ['', 'median', 'against ss alone'],
    row('ss -tanoH alone (spawned, output read through a pipe)', 'ssPipe'),
    row('ss -tanoH > /dev/null', 'ssNull'),
    row('ss -tanoH through host.exec (execa), output kept as a string', 'exec'),
    row('readSockets: ss, then its output parsed (hosts today)', 'read'),
    row('readSockets, output parsed as ss prints it (a host with stream)', 'readStream'),
    row('recorded snapshot as today: parsed after ss, every record sent over IPC', 'snapshot'),
    row('recorded snapshot, streamed, only its live view sent over IPC (proposed)', 'snapshotLive'),
    row('  the parse alone', 'parse'),
    row('  the parse alone, general (regular-expression) parser: the parser before', 'parseGeneral'),
    row(`wait poll, kernel-side filter: ${r.poll.args} (${r.poll.matched} sockets)`, 'pollFiltered'),
    row('wait poll, full read filtered in JS (as the waits polled before)', 'pollFull'),
    row(`state filter alone: state time-wait (${r.stateOnlyMatched.toLocaleString('en-US')} sockets)`, 'stateOnly'),
    row(`ctx.waitForSockets, one poll (filter ${r.waited} sockets in TIME-WAIT to the port)`, 'waitPoll'),
    row('  the same wait labelled: that poll, then the full read it records', 'waitLabelled'),
    row('ctx.waitSs with a predicate and no filter hint: one full poll', 'waitUnhinted'),
  ]).split('\n').map((l) => `  ${l}`).join('\n'));
  console.log(`  ${r.rounds < o.rounds ? `${r.rounds} of ${o.rounds} round(s) (another would have outlasted the TIME-WAIT sockets' 60 s)` : `${r.rounds} round(s)`}; each kind measured right beside a run of ss alone (alternating which goes first); ratios are medians of those pairs, times medians of all runs; every measurement starts from a collected heap`);
  const against = (k: Kind) => ratio(stats(r.ratios[k].map((f, i) => f / r.ratios.pollFull[i])).median);
  console.log(`  against a wait's poll before (a full read filtered in JS): a filtered read ${against('pollFiltered')}, one poll of ctx.waitForSockets ${against('waitPoll')}, the labelled wait (poll and recorded full read) ${against('waitLabelled')}`);
}
