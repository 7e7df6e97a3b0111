// The CLI as a user meets it: help, list, and one-line errors with exit 2 for every kind of bad input.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { readManifest } from '../../harness/build/build.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The CLI as `npm run lab` starts it: the prebuilt harness (scripts/lab.mjs imports its cli.mjs with TCP_LAB_BUILD
// set), made once for the test run by test/setup-builds.ts; through tsx from the sources if that build failed.
const BUILD = inject('tcpLabBuilds').labs;
const CLI = BUILD ? [path.join(BUILD, readManifest(BUILD)!.cli)] : ['--import', 'tsx', 'harness/cli/main.ts'];

function cli(args: string[], env: Record<string, string> = {}, wrap: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [...wrap, process.execPath, ...CLI, ...args];
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { cwd: ROOT, env: { ...process.env, ...(BUILD ? { TCP_LAB_BUILD: BUILD } : {}), ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^lab: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('lab CLI', () => {
  it('lists every lab with its title and articles', async () => {
    const r = await cli(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^time-wait-restart\s+Restart a listener over TIME-WAIT.*\[articles 001, 000\]$/m);
  });

  it('--help lists the labs and the global options', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/time-wait-restart/);
    expect(r.stdout).toMatch(/--json/);
  });

  it('<lab> --help explains the lab options and claims', async () => {
    const r = await cli(['time-wait-restart', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--old .*\[one or more of none, reuseaddr, reuseport, both, comma-separated\]/);
    expect(r.stdout).toMatch(/--connections/);
    expect(r.stdout).toMatch(/Claims tested:/);
  });

  it('unknown lab: one line naming the closest labs, exit 2', async () => {
    expectOneLineError(await cli(['time-wait-restrat']), /unknown lab 'time-wait-restrat'; did you mean time-wait-restart[,?]/);
  });

  it.skipIf(!inject('tcpLabBuilds').fixtures || !BUILD)('a build named in TCP_LAB_BUILD that lacks the lab: one line, what to do', async () => {
    // the test fixtures' build holds other labs: the CLI from it cannot load labs/*.ts (no TypeScript loader)
    const fixtures = inject('tcpLabBuilds').fixtures!;
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(fixtures, readManifest(fixtures)!.cli), 'tw-recycle', '--no-capture'], { cwd: ROOT, env: { ...process.env, TCP_LAB_BUILD: fixtures } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expectOneLineError(r, /lab tw-recycle is not in the build TCP_LAB_BUILD names .*npm run lab/);
  });

  it('bad option value: names the option, the value and the accepted values', async () => {
    expectOneLineError(await cli(['time-wait-restart', '--old', 'sometimes']), /option --old: 'sometimes' is not valid; expected one or more of none, reuseaddr, reuseport, both/);
    expectOneLineError(await cli(['time-wait-restart', '--connections', '0']), /option --connections: '0' is not valid; expected a whole number from 1 to 200/);
  });

  it('unknown flag and missing command', async () => {
    expectOneLineError(await cli(['time-wait-restart', '--colour', 'red']), /Unknown argument: colour/);
    expectOneLineError(await cli([]), /name a lab to run, or 'list'/);
  });

  it('an option given without its value', async () => {
    expectOneLineError(await cli(['time-wait-restart', '--connections']), /Not enough arguments following: connections/);
  });

  it('a results folder that cannot be written: exit 2 before the lab runs', async () => {
    const r = await cli(['time-wait-restart', '--results-dir', '/proc/tcplab-cannot-exist']);
    expectOneLineError(r, /cannot write results under '\/proc\/tcplab-cannot-exist' \(ENOENT\): pass --results-dir/);
    expect(r.stdout).toBe(''); // nothing ran
  });

  it('missing unshare: says which package to install', async () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'tcplab-nobin-'));
    try {
      symlinkSync(process.execPath, path.join(bin, 'node'));
      const r = await cli(['time-wait-restart'], { PATH: bin });
      expectOneLineError(r, /'unshare' \(package util-linux\) is not installed: run 'scripts\/setup.sh'/);
      expect(r.stdout).toBe(''); // not even the lab's title before the error
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('no user namespaces allowed: says why and what to do', async () => {
    // A real refusal, made inside a throwaway user namespace whose own limit is set to zero (the host is untouched).
    const r = await cli(['time-wait-restart'], {}, ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', 'sh']);
    expectOneLineError(r, /cannot create a user \+ network namespace \(.*\): allow unprivileged user namespaces \(user\.max_user_namespaces is 0 \(set it to a non-zero value\)/);
    expect(r.stderr).not.toMatch(/unprivileged_userns_clone/); // this kernel has no such sysctl: it is not named
    expect(r.stdout).toBe('');
  });

  it('--json as the README shows it (npm run -s ... | a JSON reader) is clean JSON, whole, through a pipe', async () => {
    const results = mkdtempSync(path.join(tmpdir(), 'tcplab-results-'));
    onTestFinished(() => rmSync(results, { recursive: true, force: true }));
    const out = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', `npm run -s lab time-wait-restart -- --connections 20 --json --results-dir ${results} | cat`], { cwd: ROOT, maxBuffer: 1 << 24 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const r = JSON.parse(out);
    // and the run folder has the marker, the result, the writeup and the snapshots
    const [run] = readdirSync(results);
    expect(readdirSync(path.join(results, run)).sort()).toEqual(['README.md', 'report.html', 'run.json', 'time-wait-restart']);
    expect(readdirSync(path.join(results, run, 'time-wait-restart')).sort()).toEqual(['capture-sandbox.pcap', 'ladder-sandbox.svg', 'result.json', 'snapshots', 'writeup.md']);
    expect(out.length).toBeGreaterThan(65536); // more than one pipe buffer: not cut at 64 KiB
    expect(r).toMatchObject({ lab: 'time-wait-restart', schemaVersion: 4, ranOn: 'host' });
  });

  it('global options that yargs would bend are refused: --results-dir twice or empty, --json=maybe', async () => {
    expectOneLineError(await cli(['time-wait-restart', '--results-dir', '/tmp/a', '--results-dir', '/tmp/b']), /option --results-dir: given 2 times; give it once/);
    expectOneLineError(await cli(['time-wait-restart', '--results-dir', '']), /option --results-dir: '' is not valid/);
    expectOneLineError(await cli(['time-wait-restart', '--json=maybe']), /option --json: 'maybe' is not valid; expected true or false/);
    expectOneLineError(await cli(['time-wait-restart', '--capture=off']), /option --capture: 'off' is not valid; expected true or false/);
  });

  it('--no-capture: the run has no pcap, no ladder and no captures in its result', async () => {
    const results = mkdtempSync(path.join(tmpdir(), 'tcplab-results-'));
    onTestFinished(() => rmSync(results, { recursive: true, force: true }));
    const r = await cli(['close-unread-rst', '--no-capture', '--results-dir', results]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^packets:/m);
    const [run] = readdirSync(results);
    expect(readdirSync(path.join(results, run, 'close-unread-rst')).sort()).toEqual(['result.json', 'snapshots', 'writeup.md']);
    expect(JSON.parse(readFileSync(path.join(results, run, 'close-unread-rst', 'result.json'), 'utf8')).captures).toBeUndefined();
  });

  it('echoed input is quoted, escaped and shortened: a huge name, escape sequences, newlines', async () => {
    const huge = await cli(['x'.repeat(20000)]);
    expectOneLineError(huge, /unknown lab 'x{57}\.\.\.'/);
    expect(huge.stderr.length).toBeLessThan(300);
    expectOneLineError(await cli(['time-\u001b[31mwait\nrestart']), /unknown lab 'time-\\x1b\[31mwait\\x0arestart'/);
    const flag = await cli(['time-wait-restart', `--${'y'.repeat(5000)}\u001b[2J`, '1']);
    expectOneLineError(flag, /Unknown argument/);
    expect(flag.stderr.length).toBeLessThan(300);
    expect(flag.stderr).not.toMatch(/\u001b/);
    const dir = await cli(['time-wait-restart', '--results-dir', `/proc/${'z'.repeat(3000)}\u001b[2J\nx`]);
    expectOneLineError(dir, /cannot write results under '\/proc\/z+\.\.\.' \(E[A-Z]+\)/);
    expect(dir.stderr.length).toBeLessThan(300);
  });
});
