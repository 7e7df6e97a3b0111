// run() and runCommand() (kernel/exec.ts): real short commands, as the harness runs ss, ip and nft, through
// posix_spawn (kernel/spawn.ts) and through child_process, which must behave alike.
import { readdirSync, readFileSync } from 'node:fs';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../harness/errors.ts';
import { run, runCommand } from '../../harness/kernel/exec.ts';
import { canSpawnFast, startCommand } from '../../harness/kernel/spawn.ts';
import { eachWayOfStarting } from '../starting.ts';

/** an open descriptor's flags from /proc (O_CLOEXEC when it is gone: the listing's own descriptor) */
function flagsOf(fd: number): number {
  try {
    return parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);
  } catch {
    return 0o2000000;
  }
}

describe('run', () => {
  it('uses posix_spawn here (glibc and the FFI are present)', () => {
    expect(canSpawnFast()).toBe(true);
  });

  it('returns stdout as printed (final newline kept), feeding input on stdin', async () => {
    expect(await run('sh', ['-c', 'printf "a\\n\\n"'])).toBe('a\n\n');
    expect(await run('cat', [], { input: 'rule 1\nrule 2\n' })).toBe('rule 1\nrule 2\n');
  });

  it('fails with a CommandError naming the command, its exit code and what it said', async () => {
    const err = await run('sh', ['-c', 'echo bad thing >&2; exit 3']).catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err.message).toBe('command failed: sh -c echo bad thing >&2; exit 3 (exit 3): bad thing');
    expect(err.exitCode).toBe(3);
    const missing = await run('no-such-program-here', ['x']).catch((e) => e);
    expect(missing).toBeInstanceOf(CommandError);
    expect(missing.message).toBe('command failed: no-such-program-here x: no-such-program-here: not found');
  });
});

describe('startCommand with posix_spawn', () => {
  it('closes every descriptor but 0-2 in the child before its exec, even one without close-on-exec', async () => {
    // a descriptor close-on-exec would not close; and the one it would close too late: posix_spawn returns while the
    // exec is still under way, and a socket of ours held by the child then stays open (see spawn.ts)
    const libc = koffi.load('libc.so.6');
    const pipe2 = libc.func('int pipe2(_Out_ int32_t *fds, int flags)');
    const close = libc.func('int close(int fd)');
    const fds = new Int32Array(2);
    expect(pipe2(fds, 0)).toBe(0);
    try {
      const seen = (await runCommand('ls', ['/proc/self/fd'])).stdout.trim().split('\n').map(Number).sort((a, b) => a - b);
      expect(seen).toEqual([0, 1, 2, 3]); // 3: ls's own handle on the folder
    } finally {
      close(fds[0]);
      close(fds[1]);
    }
  });

  it('is reaped only once its output has been read to the end, so nothing the command printed is lost', async () => {
    const p = startCommand('sh', ['-c', 'printf abc; echo err >&2']);
    if (!('kill' in p)) throw new Error(p.problem);
    let reaped = false;
    const end = p.reaped().then((e) => ((reaped = true), e));
    await new Promise((r) => setTimeout(r, 300)); // the command is long gone; its output waits in the pipes
    expect(reaped).toBe(false);
    const out: string[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b.toString()));
    p.stderr.resume();
    expect(await end).toEqual({ exitCode: 0 });
    expect(out.join('')).toBe('abc');
  });
});

eachWayOfStarting('runCommand', () => {
  const runIt = runCommand;

  it('takes output far beyond child_process\'s 1 MB default (ss with 30,000 sockets prints a few MB)', async () => {
    const r = await runIt('head', ['-c', String(8 << 20), '/dev/zero']);
    expect([r.exitCode, r.stdout.length, r.problem]).toEqual([0, 8 << 20, undefined]);
  });

  it('never rejects: an exit status, or the problem', async () => {
    expect(await runIt('sh', ['-c', 'echo out; echo err >&2; exit 2'])).toEqual({ exitCode: 2, stdout: 'out\n', stderr: 'err\n' });
    expect((await runIt('sh', ['-c', 'kill -TERM $$'])).problem).toBe('killed by SIGTERM');
    const missing = await runIt('no-such-program-here', []);
    expect([missing.exitCode, missing.problem]).toEqual([undefined, 'no-such-program-here: not found']);
  });

  it('passes the environment given, and finds the program on its PATH', async () => {
    expect(await runIt('env', [], { env: { ONLY: 'this', PATH: '/usr/bin:/bin' } })).toMatchObject({ exitCode: 0, stdout: 'ONLY=this\nPATH=/usr/bin:/bin\n' });
    expect(await runIt('sh', ['-c', 'exit 0'], { env: { PATH: '/nowhere' } })).toMatchObject({ problem: 'sh: not found' });
  });

  it('kills a command that outlives its timeout, and says so', async () => {
    const t0 = Date.now();
    const r = await runIt('sleep', ['5'], { timeoutMs: 100 });
    expect([r.exitCode, r.problem]).toEqual([undefined, 'timed out after 100 ms']);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('the command gets a stdin at EOF without input, default signal handling, and no descriptor of ours', async () => {
    expect((await runIt('cat', [])).stdout).toBe('');
    // Node ignores SIGPIPE (its own SigIgn shows it); a child must start with no signal ignored or blocked
    expect(readFileSync('/proc/self/status', 'utf8')).toMatch(/^SigIgn:\s+0*[1-9a-f]/m);
    // (except signals 32 and 33, glibc's own, which posix_spawn leaves as they are: no command here uses them)
    const status = (await runIt('cat', ['/proc/self/status'])).stdout;
    const mask = (field: string) => BigInt(`0x${new RegExp(`^${field}:\\s+(\\w+)`, 'm').exec(status)![1]}`);
    expect([mask('SigIgn') & ~0x180000000n, mask('SigBlk')]).toEqual([0n, 0n]);
    // beyond 0-2 and ls's own handle on the folder (3), only what this process holds open without O_CLOEXEC
    // (a test runner's descriptor, say): none of the pipes made for the command
    const inheritable = readdirSync('/proc/self/fdinfo').map(Number).filter((fd) => !(flagsOf(fd) & 0o2000000));
    const fds = (await runIt('ls', ['/proc/self/fd'])).stdout.trim().split('\n').map(Number);
    expect(fds.filter((fd) => fd > 3 && !inheritable.includes(fd))).toEqual([]);
    expect([0, 1, 2].every((fd) => fds.includes(fd))).toBe(true);
  });

  it('many at once, each with its own output', async () => {
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => runIt('sh', ['-c', `echo ${i}; exit ${i % 3}`])));
    expect(rs.map((r) => [r.stdout, r.exitCode])).toEqual(Array.from({ length: 40 }, (_, i) => [`${i}\n`, i % 3]));
  });
});
