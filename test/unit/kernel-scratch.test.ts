// A kernel run's scratch folders (.kernel-*) that a SIGKILLed CLI left in its run folder are removed by the next
// kernel run; those of a run whose CLI is still alive are not.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepScratch } from '../../harness/cli/kernel-run.ts';

const root = mkdtempSync(path.join(tmpdir(), 'tcp-lab-scratch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(name: string, pid: number): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, '.kernel-abc123', 'inner'), { recursive: true });
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ status: 'running', pid }));
  return dir;
}

describe('scratch folders of kernel runs', () => {
  it('removes those of a run whose CLI is gone and keeps those of a live one', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that has exited
    const dead = run('20261201-100000-aaaa', gone);
    const live = run('20261201-100001-bbbb', process.pid);
    const removed = await sweepScratch(root);
    expect(removed).toEqual([path.join(dead, '.kernel-abc123')]);
    expect(existsSync(path.join(dead, '.kernel-abc123'))).toBe(false);
    expect(existsSync(path.join(dead, 'run.json'))).toBe(true);
    expect(existsSync(path.join(live, '.kernel-abc123'))).toBe(true);
  });

  it('is quiet about a results folder that does not exist yet', async () => {
    expect(await sweepScratch(path.join(root, 'nothing-here'))).toEqual([]);
  });
});
