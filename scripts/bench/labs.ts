// npm run bench -- labs [lab ...] [--runs N] [--capture]: wall time of `npm run lab <lab>` end to end (process
// start, sandbox, lab, report, results written) and the lab's own durationMs from its result.json. With
// --capture every run is made twice, with and without packet capture, interleaved so both see the same machine.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listLabs } from '../../harness/runs/registry.ts';
import { machineLine, ms, stats, timeCommand } from './util.ts';

export interface LabsOptions {
  labs: string[];
  runs: number;
  capture: boolean;
}

/** `npm run lab <lab>` into dir, timed start to exit. */
export function timeLab(lab: string, dir: string, extra: string[] = []): Promise<number> {
  return timeCommand('npm', ['run', '--silent', 'lab', '--', lab, '--results-dir', dir, ...extra]);
}

/** Each stored run's durationMs for this lab (every run folder in dir). */
export function labTimes(dir: string, lab: string): number[] {
  return readdirSync(dir)
    .filter((run) => !run.endsWith('.tar.gz'))
    .map((run) => JSON.parse(readFileSync(path.join(dir, run, lab, 'result.json'), 'utf8')).durationMs as number);
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
}

async function captureCost(lab: string, runs: number): Promise<void> {
  const [on, off] = [tempDir(), tempDir()];
  try {
    const wallOn: number[] = [];
    const wallOff: number[] = [];
    for (let i = 0; i < runs; i++) {
      wallOn.push(await timeLab(lab, on));
      wallOff.push(await timeLab(lab, off, ['--no-capture']));
    }
    const [a, b, c, d] = [stats(wallOn).median, stats(wallOff).median, stats(labTimes(on, lab)).median, stats(labTimes(off, lab)).median];
    console.log(`  ${lab}: with capture wall ${ms(a)}, lab ${ms(c)}; without wall ${ms(b)}, lab ${ms(d)}; capture costs ${ms(c - d)} of lab time (${(((c - d) / d) * 100).toFixed(0)}%), ${ms(a - b)} of wall time (medians of ${runs})`);
  } finally {
    rmSync(on, { recursive: true, force: true });
    rmSync(off, { recursive: true, force: true });
  }
}

export async function labsBench(o: LabsOptions): Promise<void> {
  const labs = o.labs.length === 0 ? ['time-wait-restart'] : o.labs[0] === 'all' ? (await listLabs()).map((l) => l.name) : o.labs;
  console.log(`bench labs: ${machineLine()}; ${o.runs} run(s) per lab`);
  for (const lab of labs) {
    if (o.capture) {
      await captureCost(lab, o.runs);
      continue;
    }
    const dir = tempDir();
    try {
      const wall: number[] = [];
      for (let i = 0; i < o.runs; i++) wall.push(await timeLab(lab, dir));
      const w = stats(wall);
      const l = stats(labTimes(dir, lab));
      console.log(`  ${lab}: wall (npm run lab, start to exit) min ${ms(w.min)} / median ${ms(w.median)} / max ${ms(w.max)}; lab itself median ${ms(l.median)} (min ${ms(l.min)}, max ${ms(l.max)})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
