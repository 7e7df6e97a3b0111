// run() and runCommand() (kernel/exec.ts): real short commands, as the harness runs ss, ip and nft.
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../harness/errors.ts';
import { run, runCommand } from '../../harness/kernel/exec.ts';

describe('run', () => {
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

  it('kills a command that outlives its timeout, and says so', async () => {
    const t0 = Date.now();
    const err = await run('sleep', ['5'], { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err.message).toMatch(/^command failed: sleep 5: timed out after \d+ ms$/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('runCommand', () => {
  it('takes output far beyond child_process\'s 1 MB default (ss with 30,000 sockets prints a few MB)', async () => {
    const r = await runCommand('head', ['-c', String(8 << 20), '/dev/zero']);
    expect([r.exitCode, r.stdout.length, r.problem]).toEqual([0, 8 << 20, undefined]);
  });

  it('never rejects: an exit status, or the problem', async () => {
    expect(await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 2'])).toEqual({ exitCode: 2, stdout: 'out\n', stderr: 'err\n' });
    expect((await runCommand('sh', ['-c', 'kill -TERM $$'])).problem).toBe('killed by SIGTERM');
    expect(await runCommand('env', [], { env: { ONLY: 'this' } })).toMatchObject({ exitCode: 0, stdout: 'ONLY=this\n' });
  });
});
