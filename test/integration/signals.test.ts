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
  const runner = cli && rows.find((r) => r.cmd.includes('runner.ts') && r.ppid === cli.pid);
  return { cli: cli?.pid, runner: runner?.pid };
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
  it('SIGTERM to npm (a service manager, a CI timeout) stops the whole chain; the result is written', async () => {
    const r = start();
    await ready(r);
    const { cli, runner } = chain(r.results);
    process.kill(r.npm.pid!, 'SIGTERM');
    await expectNothingLeft([cli, runner]);
    expect(marker(r)).toMatchObject({ status: 'interrupted', signal: 'SIGTERM', outcomes: { hold: 'error' } });
    expect(result(r).reason).toMatch(/interrupted by SIGTERM/);
  }, 30_000);

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
