// npm run bench -- startup [lab]: what `npm run lab <lab>` spends besides the lab itself (npm, the CLI, the
// sandbox, the runner, writing results), measured beside an npm script that only runs `node -e 0`, bare Node,
// Node in a fresh sandbox and Node with the tsx loader, interleaved run by run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labTimes, timeLab } from './labs.ts';
import { SANDBOX, machineLine, ms, ratio, stats, table, timeCommand } from './util.ts';

export interface StartupOptions {
  lab: string;
  runs: number;
}

export async function startupBench(o: StartupOptions): Promise<void> {
  console.log(`bench startup: ${machineLine()}; ${o.runs} run(s) of each, interleaved`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-'));
  // an npm project whose one script starts node and does nothing: what npm itself costs
  const npmDir = mkdtempSync(path.join(tmpdir(), 'tcplab-bench-npm-'));
  writeFileSync(path.join(npmDir, 'package.json'), JSON.stringify({ name: 'noop', private: true, scripts: { noop: 'node -e 0' } }));
  const npm: number[] = [];
  const wall: number[] = [];
  const node: number[] = [];
  const sandboxed: number[] = [];
  const tsx: number[] = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      wall.push(await timeLab(o.lab, dir, ['--no-capture']));
      npm.push(await timeCommand('npm', ['run', '--silent', 'noop'], { cwd: npmDir }));
      node.push(await timeCommand(process.execPath, ['-e', '0']));
      sandboxed.push(await timeCommand(SANDBOX[0], [...SANDBOX.slice(1), process.execPath, '-e', '0']));
      tsx.push(await timeCommand(process.execPath, ['--import', 'tsx', '-e', '0']));
    }
    const lab = stats(labTimes(dir, o.lab)).median;
    const w = stats(wall).median;
    const overhead = w - lab;
    const base = stats(npm).median;
    const row = (label: string, x: number) => [label, ms(x), ratio(x / base)];
    console.log(table([
      ['', 'median', 'against an npm script running node -e 0'],
      row(`npm run lab ${o.lab} --no-capture, start to exit`, w),
      row('  the lab itself (its durationMs)', lab),
      row('  everything else: npm, start-up, report, results', overhead),
      row('npm run noop (a script that runs node -e 0)', base),
      row('node -e 0', stats(node).median),
      row('unshare --user --map-root-user --net node -e 0', stats(sandboxed).median),
      row('node --import tsx -e 0', stats(tsx).median),
    ]).split('\n').map((l) => `  ${l}`).join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(npmDir, { recursive: true, force: true });
  }
}
