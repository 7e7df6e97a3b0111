// Actor processes: a crash fails the lab with a clear message, and no actor outlives its lab, whether the lab
// ends normally, is interrupted, or its runner is SIGKILLed (the actors die with it through PDEATHSIG).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LabMessage } from '../../harness/lab/context.ts';
import { entryOf } from '../../harness/runs/registry.ts';
import { runLab } from '../../harness/runs/run.ts';
import { expectGone, netnsOf, processesInNetns } from '../helpers.ts';

const module = fileURLToPath(new URL('../fixtures/labs/actors.ts', import.meta.url));

async function start(mode: string, onReady?: (runner: number, actors: number[]) => void, signal?: AbortSignal) {
  const def = await entryOf(module);
  const actors: number[] = [];
  let runner = 0;
  const result = await runLab({
    lab: def,
    options: { mode },
    signal,
    onSpawn: (pid) => (runner = pid),
    onMessage: (m: LabMessage) => {
      if (m.type === 'event' && m.event.kind === 'actor-spawn') actors.push(m.event.data!.pid as number);
      if (m.type === 'event' && m.event.kind === 'ready') onReady?.(runner, [...actors]);
    },
  });
  return { result, actors, runner };
}

describe('actors', () => {
  it('are gone when the lab ends normally, and their events carry their name', async () => {
    const { result, actors, runner } = await start('done');
    expect(result.outcome).toBe('ran');
    expect(actors).toHaveLength(2);
    await expectGone(runner);
    for (const pid of actors) await expectGone(pid);
    expect(result.events.filter((e) => e.kind === 'actor-event').every((e) => /^\[(server|victim)\] /.test(e.detail))).toBe(true);
    expect(result.events.filter((e) => e.kind === 'actor-exit').map((e) => e.data!.expected)).toEqual([true, true]);
  });

  it('a crashed actor fails the lab with a message naming it, its exit and its last output', async () => {
    const { result, actors } = await start('crash');
    expect(result.outcome).toBe('error');
    expect(result.reason).toMatch(/actor 'victim' \(pid \d+\) exited with code 3 while the lab still needed it/);
    expect(result.reason).toMatch(/\[victim\] actor: crashing on purpose/);
    expect(result.events.some((e) => e.kind === 'actor-output' && e.detail === '[victim] actor: crashing on purpose with exit code 3')).toBe(true);
    for (const pid of actors) await expectGone(pid);
  });

  it('are gone after the lab is interrupted (teardown) and after its runner is SIGKILLed (PDEATHSIG)', async () => {
    const ac = new AbortController();
    let seen: number[] = [];
    const interrupted = await start('hold', (_r, a) => {
      seen = a;
      ac.abort();
    }, ac.signal);
    expect(interrupted.result.outcome).toBe('error');
    expect(seen).toHaveLength(2);
    for (const pid of seen) await expectGone(pid);

    let killed: number[] = [];
    let inNs: number[] = [];
    const k = await start('hold', (runner, a) => {
      killed = a;
      for (const pid of a) expect(existsSync(`/proc/${pid}`)).toBe(true);
      inNs = processesInNetns(netnsOf(runner)!, { ignoreTsxService: true }); // the runner and its actors, nothing else (no build helper left)
      process.kill(runner, 'SIGKILL');
    });
    expect(k.result.outcome).toBe('error');
    expect(killed).toHaveLength(2);
    expect(inNs.sort()).toEqual([k.runner, ...killed].sort());
    for (const pid of killed) await expectGone(pid);
  });
});
