// Benchmark: wall time of `npm run lab <lab>` end to end (process start, sandbox, lab, report, results
// written), and the lab's own durationMs from its result.json. Usage: npm run bench -- [lab ...] [--runs N]
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
const labs = args.length === 0 ? ['time-wait-restart'] : args[0] === 'all' ? (await listLabs()).map((l) => l.name) : args;

function once(lab: string, dir: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    execFile('npm', ['run', '--silent', 'lab', '--', lab, '--results-dir', dir], { cwd: ROOT }, (err, _out, stderr) =>
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
for (const lab of labs) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  try {
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) wall.push(await once(lab, dir));
    const inLab = readdirSync(dir).map((run) => JSON.parse(readFileSync(path.join(dir, run, lab, 'result.json'), 'utf8')).durationMs as number);
    const w = stats(wall);
    const l = stats(inLab);
    console.log(`${lab}: wall (npm run lab, start to exit) min ${ms(w.min)} / median ${ms(w.median)} / max ${ms(w.max)}; lab itself median ${ms(l.median)} (min ${ms(l.min)}, max ${ms(l.max)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
