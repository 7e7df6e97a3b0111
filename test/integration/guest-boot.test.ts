// A real guest: boot the cached Debian 6.1 kernel under QEMU and run, in this repository's folder, uname
// and the rootless sandbox the labs use (unshare --user --map-root-user --net, then ss), writing a file
// into the shared folder. Skipped, saying why, without QEMU or without a cached 6.1 kernel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInGuest } from '../../harness/guest/boot.ts';
import { findKernel, type KernelEntry } from '../../harness/guest/kernels.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' }).status === 0;
const kernel: KernelEntry | undefined = await findKernel('6.1').catch(() => undefined);
const why = !hasQemu ? 'qemu-system-x86_64 is not installed (scripts/setup.sh --kernels)' : !kernel ? "no 6.1 kernel in the cache ('npm run lab kernels -- add 6.1')" : '';

describe.skipIf(!!why)(`a guest on Debian's 6.1 kernel${why ? ` (skipped: ${why})` : ''}`, () => {
  it('boots, runs the sandbox the labs use, writes into the shared folder, and reports the exit code', async () => {
    const share = mkdtempSync(path.join(tmpdir(), 'tcplab-guest-share-'));
    try {
      const lines: string[] = [];
      const script = `uname -r; unshare --user --map-root-user --net ss -tanH state listening && echo sandbox-ok; echo "$TCP_LAB_RAN_ON" > ${share}/ran-on; exit 3`;
      const o = await runInGuest({ kernel: kernel!, command: ['sh', '-c', script], cwd: ROOT, share, deadlineMs: 55_000, onLine: (l) => lines.push(l) });
      const context = `${JSON.stringify({ ...o, tail: o.tail.slice(-8) }, null, 1)}\n${lines.join('\n')}`;
      expect(o.exitCode, context).toBe(3);
      expect(lines[0], context).toBe(kernel!.release);
      expect(lines, context).toContain('sandbox-ok');
      expect(readFileSync(path.join(share, 'ran-on'), 'utf8').trim()).toBe(o.how);
      expect(o.bootMs).toBeGreaterThan(0);
      expect(o.timedOut || o.aborted).toBe(false);
    } finally {
      rmSync(share, { recursive: true, force: true });
    }
  }, 60_000);
});
