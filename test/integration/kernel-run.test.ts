// `--kernel`: the same lab on other kernels, for real. On the host (`--kernel host`) always; in a QEMU guest booted
// from Debian's 6.1 kernel when qemu and that kernel are installed (scripts/setup.sh --kernels, then
// `npm run lab kernels -- add 6.1`; CI does both), where tcp_rto_min_us does not exist (it came in 6.11), so
// time-wait-fin-restart's claim must come out inconclusive there with that reason, never an error. That one boot
// is also the test of the guest itself: the kernel it booted, the labs' sandbox in it (a sysctl set there, the
// libc churn, counters, ss), the shared folder written from inside, TCP_LAB_RAN_ON and the command's exit code
// (test/unit/guest-launch.test.ts covers the rest of the launch against a stand-in QEMU). The guest gets one vCPU,
// as the other test files keep both cores busy: with two busy loops beside it on 2 cores, this run cost 24-26 CPU-s
// and 28-32 s with one vCPU, 30-38 CPU-s and 35-42 s with two (3 runs each).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import type { RunMarker } from '../../harness/results/store.ts';
import { hasProgram } from '../helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function lab(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string; runDir: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'tcp-lab-kernel-'));
  dirs.push(root);
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/lab.mjs', 'harness/cli/main.ts', ...args, '--results-dir', root], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const runs = readdirSync(root);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, runDir: path.join(root, runs[0] ?? '') });
    });
  });
}
const resultIn = (runDir: string, folder: string) => JSON.parse(readFileSync(path.join(runDir, folder, 'result.json'), 'utf8')) as LabResult;
const markerOf = (runDir: string) => JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as RunMarker;

describe('a run with --kernel host', () => {
  it('runs the lab through the ordinary CLI and files it as <lab>@<release>, ranOn host', async () => {
    const r = await lab(['time-wait-restart', '--kernel', 'host', '--no-capture', '--connections', '2'], 60_000);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const folder = `time-wait-restart@${release()}`;
    const result = resultIn(r.runDir, folder);
    expect(result).toMatchObject({ lab: 'time-wait-restart', ranOn: 'host', outcome: 'ran', options: { connections: 2 } });
    expect(result.kernel.split(' ')[1]).toBe(release());
    const marker = markerOf(r.runDir);
    expect(marker).toMatchObject({ status: 'finished', labs: [folder], kernels: [{ spec: 'host', release: release(), ranOn: 'host', folders: [folder], exitCode: 0 }] });
    expect(r.stdout).toMatch(/Verdicts by kernel \(1 kernel/);
    expect(r.stdout).toMatch(new RegExp(`\\[${release().replace(/[.+]/g, '\\$&')}\\] `)); // the inner run's lines, prefixed
    expect(readdirSync(r.runDir).filter((f) => f.startsWith('.kernel-'))).toEqual([]); // scratch folders are gone
  }, 90_000);

  it('refuses guest options without --kernel, and a kernel that was never added, in one line', async () => {
    const a = await lab(['time-wait-restart', '--accel', 'tcg'], 30_000);
    expect(a.code).toBe(2);
    expect(a.stderr.trim()).toBe('lab: option --accel: only for runs on other kernels; add --kernel <version>');
    const b = await lab(['time-wait-restart', '--kernel', '1.2'], 30_000);
    expect(b.code).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stderr).toMatch(/^lab: .*1\.2.*npm run lab kernels -- add/);
    const c = await lab(['time-wait-restart', '--kernel', 'host', '--guest-cpus', '0'], 30_000);
    expect(c.code).toBe(2);
    expect(c.stderr.trim()).toMatch(/^lab: option --guest-cpus: '0' is not valid; expected a whole number from 1 to \d+ \(this machine's cores\)$/);
  }, 60_000);
});

const kernels = await import('../../harness/guest/kernels.ts').then((m) => m.listKernels()).catch(() => []);
const k61 = kernels.find((k) => k.release.startsWith('6.1.'));
const why = !hasProgram('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed (scripts/setup.sh --kernels)' : !k61 ? "no 6.1 kernel in the cache (npm run lab kernels -- add 6.1)" : '';

describe.skipIf(!!why)(`a run on Debian's 6.1 kernel and the host${why ? ` (skipped: ${why})` : ''}`, () => {
  it('boots the guest, runs the labs there, and a sysctl 6.1 lacks makes the claim inconclusive, not an error', async () => {
    const r = await lab(['time-wait-fin-restart', 'max-tw-buckets', '--kernel', '6.1', '--kernel', 'host', '--no-capture', '--guest-cpus', '1'], 240_000);
    expect(r.stderr).not.toMatch(/internal error/);
    const guest = resultIn(r.runDir, `time-wait-fin-restart@${k61!.release}`);
    expect(guest.kernel.split(' ')[1]).toBe(k61!.release);
    expect(['kvm', 'emulated']).toContain(guest.ranOn);
    expect(guest.outcome).not.toBe('error');
    expect(guest.claims.map((c) => c.verdict)).toEqual(['inconclusive']);
    expect(guest.claims[0].observed).toMatch(/tcp_rto_min_us/);
    const host = resultIn(r.runDir, `time-wait-fin-restart@${release()}`);
    expect(host.ranOn).toBe('host');
    // a lab that ran whole in the guest: its sandbox, ss in it, and its result written into the shared folder
    const whole = resultIn(r.runDir, `max-tw-buckets@${k61!.release}`);
    expect([whole.outcome, whole.ranOn, whole.kernel.split(' ')[1]]).toEqual(['ran', guest.ranOn, k61!.release]);
    expect(whole.snapshots.some((s) => s.sockets.some((k) => k.state === 'TIME-WAIT'))).toBe(true);
    expect(whole.claims.map((c) => c.verdict)).toEqual(resultIn(r.runDir, `max-tw-buckets@${release()}`).claims.map((c) => c.verdict));
    expect(r.stdout).toMatch(/^== 6\.1\.\S+: booting a guest with 1 vCPU \(/m);
    const marker = markerOf(r.runDir);
    expect(marker.kernels!.map((k) => k.ranOn)).toEqual([guest.ranOn, 'host']);
    expect(marker.kernels!.map((k) => k.exitCode)).toEqual([0, 0]); // the inner CLI's exit code, through the guest
    expect(marker.kernels![0].bootMs).toBeGreaterThan(0);
    expect(marker.kernels!.map((k) => k.cpus)).toEqual([1, undefined]);
    expect(readFileSync(path.join(r.runDir, 'README.md'), 'utf8')).toMatch(/## Verdicts by kernel/);
  }, 300_000);
});
