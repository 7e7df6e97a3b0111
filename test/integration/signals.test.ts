// Stopping a run the ways users and machines do, through the real `npm run lab` chain: every way keeps the run's
// result (or at least a marker saying what happened), exits 128 + the signal, and leaves no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exited } from '../helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/labs/', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Run { npm: ChildProcess; out: () => string; results: string; exit: Promise<number | null> }

/** `npm run lab hold` in a process group of its own (as a terminal would start it), fixture labs only. */
function start(mode = 'wait', lab = 'hold'): Run {
  const results = mkdtempSync(path.join(tmpdir(), 'tcplab-signals-'));
  dirs.push(results);
  const npm = spawn('npm', ['run', '-s', 'lab', lab, '--', '--mode', mode, '--results-dir', results], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TCP_LAB_LABS_DIR: FIXTURES },
  });
  let text = '';
  npm.stdout!.on('data', (d) => (text += d));
  npm.stderr!.on('data', (d) => (text += d));
  const exit = new Promise<number | null>((r) => npm.on('exit', (code, sig) => r(code ?? (sig ? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[sig as string] ?? 0) : null))));
  return { npm, out: () => text, results, exit };
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** pids of the CLI and the sandboxed runner of this run, from the process table */
function chain(results: string): { cli?: number; runner?: number } {
  const rows = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try { return [{ pid: Number(p), cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' '), ppid: Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) }]; } catch { return []; }
  });
  const cli = rows.find((r) => r.cmd.startsWith('node ') && r.cmd.includes('harness/cli/main.ts') && r.cmd.includes(results)); // not its sh -c
  const runner = cli && rows.find((r) => /runner\.(ts|mjs)\b/.test(r.cmd) && r.ppid === cli.pid);
  return { cli: cli?.pid, runner: runner?.pid };
}

/** live processes started for the run of this CLI: the CLI itself and its sandboxed runner (found by its environment) */
function leftovers(cli: number): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    if (exited(pid)) return false;
    if (pid === cli) return true;
    try { return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`TCP_LAB_PARENT_PID=${cli}`); } catch { return false; }
  });
}

const marker = (r: Run) => {
  const [run] = readdirSync(r.results);
  return { run, ...JSON.parse(readFileSync(path.join(r.results, run, 'run.json'), 'utf8')) };
};
const result = (r: Run) => JSON.parse(readFileSync(path.join(r.results, marker(r).run, 'hold', 'result.json'), 'utf8'));
const ready = (r: Run) => until(() => /ready: pid/.test(r.out()), 'the lab to be ready');

async function expectNothingLeft(pids: (number | undefined)[]): Promise<void> {
  for (const p of pids) if (p) await until(() => exited(p), `process ${p} to exit`, 5000);
}

describe('stopping a run', () => {
  it('Ctrl-C (SIGINT to the whole group, npm forwarding it again) is one interruption: exit 130 and the result', async () => {
    const r = start();
    await ready(r);
    const { cli, runner } = chain(r.results);
    process.kill(-r.npm.pid!, 'SIGINT');
    expect(await r.exit).toBe(130);
    await expectNothingLeft([cli, runner]);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGINT' });
    expect(result(r).events.map((e: { detail: string }) => e.detail)).toContain('teardown ran');
  }, 30_000);

  it('SIGHUP to the CLI (a closed terminal) stops it like Ctrl-C: exit 129', async () => {
    const r = start();
    await ready(r);
    const { cli, runner } = chain(r.results);
    process.kill(cli!, 'SIGHUP');
    expect(await r.exit).toBe(129);
    await expectNothingLeft([cli, runner]);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGHUP' });
  }, 30_000);

  it('a deliberate second Ctrl-C during a slow teardown quits at once, and the folder says so', async () => {
    const r = start('slow');
    await ready(r);
    const { cli, runner } = chain(r.results);
    process.kill(-r.npm.pid!, 'SIGINT');
    await until(() => /stopping the lab/.test(r.out()), 'the first interruption');
    await new Promise((res) => setTimeout(res, 800));
    const t0 = Date.now();
    process.kill(cli!, 'SIGINT');
    expect(await r.exit).toBe(130);
    expect(Date.now() - t0).toBeLessThan(1500); // did not wait for the 3 s teardown
    await expectNothingLeft([cli, runner]);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGINT', note: expect.stringMatching(/quit at once/) });
  }, 30_000);

  it('SIGKILL of the CLI: the sandbox dies with it and the marker is left "running" with a dead pid', async () => {
    const r = start();
    await ready(r);
    const { cli, runner } = chain(r.results);
    process.kill(cli!, 'SIGKILL');
    await expectNothingLeft([cli, runner]);
    const m = marker(r);
    expect(m).toMatchObject({ status: 'running', pid: cli });
    expect(exited(m.pid)).toBe(true);
  }, 30_000);

  it('Ctrl-C in a lab with actors: they are stopped by the lab, not by the terminal; no stack trace', async () => {
    const r = start('hold', 'actors');
    await until(() => /ready: actors/.test(r.out()), 'the actors to hold their connection');
    const { cli, runner } = chain(r.results);
    const actors = r.out().match(/ready: actors (\d+) (\d+)/)!.slice(1).map(Number);
    process.kill(-r.npm.pid!, 'SIGINT');
    expect(await r.exit).toBe(130);
    await expectNothingLeft([cli, runner, ...actors]);
    expect(r.out()).not.toMatch(/\n\s+at /);
    const [run] = readdirSync(r.results);
    const res = JSON.parse(readFileSync(path.join(r.results, run, 'actors', 'result.json'), 'utf8'));
    expect(res.reason).toMatch(/interrupted by SIGINT/);
  }, 30_000);

  it('SIGTERM during start-up names SIGTERM, and any run folder that exists says what happened', async () => {
    const r = start();
    await until(() => chain(r.results).cli !== undefined, 'the CLI to start');
    const { cli } = chain(r.results);
    process.kill(cli!, 'SIGTERM');
    expect(await r.exit).toBe(143);
    await expectNothingLeft([cli]);
    const runs = readdirSync(r.results);
    if (runs.length) {
      expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
      expect(r.out()).not.toMatch(/SIGINT/);
    }
  }, 30_000);
});

// Each of these runs beside the others (to keep the file short in time): one signal, sent to one process of the chain.
describe.concurrent('stopping a run from any process of the chain', () => {
  // npm passes SIGINT and SIGTERM on to the CLI (the lab script execs it, so no shell swallows them) and waits for it
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s to npm alone: npm passes it on and exits %i once the result is written', async (sig, code) => {
    const r = start();
    await ready(r);
    const { cli } = chain(r.results);
    process.kill(r.npm.pid!, sig);
    expect(await r.exit).toBe(code);
    await until(() => leftovers(cli!).length === 0, 'the CLI and its sandbox to exit', 5000);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: sig, outcomes: { hold: 'error' } });
    expect(result(r).reason).toBe(`interrupted by ${sig}`);
  }, 30_000);

  // npm passes on neither SIGHUP nor (it cannot) SIGKILL: the CLI notices that its parent died and stops the run
  it.each(['SIGHUP', 'SIGKILL'] as const)('%s to npm alone: the CLI stops the run when npm dies', async (sig) => {
    const r = start();
    await ready(r);
    const { cli } = chain(r.results);
    process.kill(r.npm.pid!, sig);
    await r.exit;
    await until(() => leftovers(cli!).length === 0, 'the CLI and its sandbox to exit', 8000);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGTERM', note: expect.stringMatching(/npm\) went away/) });
    expect(result(r).events.map((e: { detail: string }) => e.detail)).toContain('teardown ran');
  }, 30_000);

  it('SIGTERM to the whole process group: one interruption, exit 143', async () => {
    const r = start();
    await ready(r);
    const { cli } = chain(r.results);
    process.kill(-r.npm.pid!, 'SIGTERM');
    expect(await r.exit).toBe(143);
    await until(() => leftovers(cli!).length === 0, 'the CLI and its sandbox to exit', 5000);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
    expect(marker(r).note).toBeUndefined(); // npm was alive: this was not its death
  }, 30_000);

  it('Ctrl-C while the sandbox starts: the folder says interrupted by SIGINT, and no command of the lab was killed', async () => {
    const r = start();
    await until(() => readdirSync(r.results).length > 0, 'the run folder', 15_000);
    const { cli } = chain(r.results);
    process.kill(-r.npm.pid!, 'SIGINT');
    expect(await r.exit).toBe(130);
    await until(() => leftovers(cli!).length === 0, 'the CLI and its sandbox to exit', 5000);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGINT', outcomes: { hold: 'error' } });
    const reason = result(r).reason as string;
    expect(reason).toMatch(/interrupted by SIGINT/);
    expect(reason).not.toMatch(/command failed|killed by/);
  }, 30_000);
});
