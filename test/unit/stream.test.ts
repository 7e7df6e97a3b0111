// streamRun (kernel/stream.ts): output in pieces while the command runs, failures worded as run() words them;
// through posix_spawn and through child_process alike.
import { expect, it } from 'vitest';
import { CommandError } from '../../harness/errors.ts';
import { streamRun } from '../../harness/kernel/stream.ts';
import { eachWayOfStarting } from '../starting.ts';

eachWayOfStarting('streamRun', () => {
  it('hands over all of stdout, in order, before it resolves', async () => {
    const pieces: string[] = [];
    await streamRun('sh', ['-c', 'for i in 1 2 3; do echo line $i; sleep 0.05; done; printf "é"'], (t) => pieces.push(t));
    expect(pieces.join('')).toBe('line 1\nline 2\nline 3\né');
    expect(pieces.length).toBeGreaterThan(1); // it did arrive while the command ran
  });

  it('resolves only after the last piece of a large output (8 MB, as a big ss dump)', async () => {
    let got = 0;
    await streamRun('head', ['-c', String(8 << 20), '/dev/zero'], (t) => (got += t.length));
    expect(got).toBe(8 << 20);
  });

  it('fails with a CommandError naming the command and what it said', async () => {
    const err = await streamRun('sh', ['-c', 'echo bad thing >&2; exit 3'], () => {}).catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err.message).toBe('command failed: sh -c echo bad thing >&2; exit 3 (exit 3): bad thing');
    const missing = await streamRun('no-such-program-here', [], () => {}).catch((e) => e);
    expect(missing).toBeInstanceOf(CommandError);
    expect(missing.message).toMatch(/no-such-program-here: not found/);
  });

  it('stops the command when the reader fails, and passes the reader\'s error on', async () => {
    const t0 = Date.now();
    const err = await streamRun('sh', ['-c', 'echo first; sleep 5; echo never'], () => { throw new Error('cannot read that'); }).catch((e) => e);
    expect(err.message).toBe('cannot read that');
    expect(Date.now() - t0).toBeLessThan(3000);
    const slow = await streamRun('sleep', ['5'], () => {}, { timeoutMs: 100 }).catch((e) => e);
    // 100 ms, or more on a busy machine (deadlines stretch with the load: kernel/pace.ts)
    const ms = Number(/timed out after (\d+) ms/.exec(slow.message)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThanOrEqual(400);
  });
});
