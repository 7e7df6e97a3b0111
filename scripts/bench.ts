// Benchmark: wall time of `npm run lab <lab>` end to end (process start, sandbox, lab, report, results
// written), and the lab's own durationMs from its result.json. Usage: npm run bench -- [lab ...] [--runs N]
// [--capture]: with --capture, every run is made twice, with and without packet capture, interleaved so both
// see the same machine, and the bench reports what the capture costs.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listLabs } from '../harness/runs/registry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
if (!Number.isInteger(runs) || runs < 1) {
  console.error('bench: --runs takes a whole number >= 1');
  process.exit(2);
}
const captureAt = args.indexOf('--capture');
const compareCapture = captureAt >= 0;
if (compareCapture) args.splice(captureAt, 1);
if (args.includes('--help') || args.includes('-h')) {
  console.log('Usage: npm run bench -- [lab ...|all] [--runs N] [--capture]\n  wall time of npm run lab and the lab\'s own time, median of N runs (default 5)\n  --capture  also run each lab without packet capture (interleaved) and report the difference');
  process.exit(0);
}
const labs = args.length === 0 ? ['time-wait-restart'] : args[0] === 'all' ? (await listLabs()).map((l) => l.name) : args;

function once(lab: string, dir: string, extra: string[] = []): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    execFile('npm', ['run', '--silent', 'lab', '--', lab, '--results-dir', dir, ...extra], { cwd: ROOT }, (err, _out, stderr) =>
      err ? reject(new Error(`${lab} failed: ${stderr.trim().split('\n').pop()}`)) : resolve(performance.now() - t0),
    ),
  );
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const ms = (x: number) => `${Math.round(x)} ms`;

console.log(`bench: ${runs} run(s) per lab, ${process.versions.node} on ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`);
const labTimes = (dir: string, lab: string) =>
  readdirSync(dir).filter((run) => !run.endsWith('.tar.gz')).map((run) => JSON.parse(readFileSync(path.join(dir, run, lab, 'result.json'), 'utf8')).durationMs as number);

async function captureCost(lab: string): Promise<void> {
  const on = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  const off = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  try {
    const wallOn: number[] = [];
    const wallOff: number[] = [];
    for (let i = 0; i < runs; i++) {
      wallOn.push(await once(lab, on));
      wallOff.push(await once(lab, off, ['--no-capture']));
    }
    const [a, b, c, d] = [stats(wallOn).median, stats(wallOff).median, stats(labTimes(on, lab)).median, stats(labTimes(off, lab)).median];
    console.log(`${lab}: with capture wall ${ms(a)}, lab ${ms(c)}; without wall ${ms(b)}, lab ${ms(d)}; capture costs ${ms(c - d)} of lab time (${(((c - d) / d) * 100).toFixed(0)}%), ${ms(a - b)} of wall time (medians of ${runs})`);
  } finally {
    rmSync(on, { recursive: true, force: true });
    rmSync(off, { recursive: true, force: true });
  }
}

for (const lab of labs) {
  if (compareCapture) {
    await captureCost(lab);
    continue;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  try {
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) wall.push(await once(lab, dir));
    const inLab = labTimes(dir, lab);
    const w = stats(wall);
    const l = stats(inLab);
    console.log(`${lab}: wall (npm run lab, start to exit) min ${ms(w.min)} / median ${ms(w.median)} / max ${ms(w.max)}; lab itself median ${ms(l.median)} (min ${ms(l.min)}, max ${ms(l.max)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
