// runInGuest against a stand-in for qemu-system-x86_64 (a shell script first on PATH that plays the guest:
// it reads the nonce from the fw_cfg script and writes console and output to fds 3 and 4 as the serial
// ports would): output lines and exit codes, KVM failing over to emulation (and being remembered), the
// deadline, an abort, a failing guest, and QEMU dying with us when our process is SIGKILLed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInGuest, resolveProgram, type GuestRun } from '../../harness/guest/boot.ts';
import { accelFinding, type KernelEntry } from '../../harness/guest/cache.ts';
import { eachLine } from '../../harness/guest/launch.ts';
import { kvmUsable } from '../../harness/guest/qemu.ts';
import { probeArgs } from '../helpers.ts';
import { PassThrough } from 'node:stream';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FAKE = String.raw`#!/bin/bash
echo $$ > "$FAKE_QEMU_DIR/pid"
script=; prev=; kvm=0
for a in "$@"; do
  [ "$prev" = -fw_cfg ] && script=$a
  [ "$prev" = -accel ] && [ "$a" = kvm ] && kvm=1
  prev=$a
done
nonce=$(printf '%s\n' "$script" | sed -n 's/^say() { echo "\([0-9a-f]*\) .*/\1/p')
ran=$(printf '%s\n' "$script" | grep -o 'TCP_LAB_RAN_ON=[a-z]*' | head -1)
echo "$*" > "$FAKE_QEMU_DIR/args"
mode=$FAKE_QEMU
if [ "$mode" = kvmfail ]; then
  if [ $kvm = 1 ]; then echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed." >&2; exit 134; fi
  mode=ok
fi
if [ "$mode" = kvmlate ]; then
  if [ $kvm = 1 ]; then
    echo "$nonce start 0.40" >&3
    echo "working" >&4
    sleep 0.3
    printf 'KVM internal error. Suberror: 1\nemulation failure\n' >&2
    exec sleep 1000
  fi
  mode=ok
fi
echo "[    0.000000] Linux version 6.1.0-fake" >&3
case $mode in
  ok)
    echo "$nonce start 1.25" >&3
    printf 'hello\n\n%s\nlast' "$ran" >&4
    printf '\n%s exit 7\n' "$nonce" >&4
    echo "$nonce exit 7" >&3 ;;
  hang)
    echo "$nonce start 0.50" >&3
    echo "working" >&4
    exec sleep 1000 ;;
  stoppable)
    echo "$nonce start 0.50" >&3
    echo "working" >&4
    # the guest's stage 2 reads the console for "<nonce> stop" and sends the command SIGTERM
    while IFS= read -r line <&3; do
      if [ "$line" = "$nonce stop" ]; then
        printf 'stopped by the host\n\n%s exit 143\n' "$nonce" >&4
        echo "$nonce exit 143" >&3
        exit 0
      fi
    done ;;
  broken)
    echo "tcp-lab-guest: cannot mount the shared folder at /nowhere" >&3
    printf '\n%s exit none\n' "$nonce" >&4 ;;
  crash)
    echo "Kernel panic - not syncing: fake" >&3
    exit 0 ;;
esac
`;

const ready = spawnSync('sh', ['-c', 'command -v busybox && command -v setpriv && PATH=$PATH:/sbin:/usr/sbin command -v modprobe'], { stdio: 'ignore' }).status === 0;
let dir: string;
let kernel: KernelEntry;
const saved = { PATH: process.env.PATH, TCP_LAB_KERNELS_DIR: process.env.TCP_LAB_KERNELS_DIR, FAKE_QEMU: process.env.FAKE_QEMU, FAKE_QEMU_DIR: process.env.FAKE_QEMU_DIR };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tcplab-fakeqemu-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'share'));
  writeFileSync(path.join(dir, 'bin/qemu-system-x86_64'), FAKE);
  chmodSync(path.join(dir, 'bin/qemu-system-x86_64'), 0o755);
  writeFileSync(path.join(dir, 'vmlinuz'), '');
  writeFileSync(path.join(dir, 'initramfs.img'), '');
  kernel = { id: '6.1.0-fake', release: '6.1.0-fake', source: 'own', dir, vmlinuz: path.join(dir, 'vmlinuz'), initramfs: path.join(dir, 'initramfs.img'), modules: path.join(dir, 'mods'), addedAt: '2026-01-01T00:00:00.000Z' };
  process.env.PATH = `${path.join(dir, 'bin')}:${process.env.PATH}`;
  process.env.TCP_LAB_KERNELS_DIR = path.join(dir, 'cache');
  process.env.FAKE_QEMU_DIR = dir;
  mkdirSync(path.join(dir, 'cache'));
});

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  rmSync(dir, { recursive: true, force: true });
});

function run(mode: string, over: Partial<GuestRun> = {}) {
  process.env.FAKE_QEMU = mode;
  const lines: string[] = [];
  const done = runInGuest({ kernel, command: ['sh', '-c', 'true'], cwd: ROOT, share: path.join(dir, 'share'), accel: 'tcg', deadlineMs: 20_000, onLine: (l) => lines.push(l), ...over });
  return { lines, done };
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe.skipIf(!ready)('runInGuest (with a stand-in QEMU)', () => {
  it('passes on the output lines, not the markers or the console, and returns the exit code', async () => {
    const { lines, done } = run('ok');
    const o = await done;
    expect(lines).toEqual(['hello', '', 'TCP_LAB_RAN_ON=emulated', 'last']);
    expect(o).toMatchObject({ exitCode: 7, how: 'emulated', kernelBootMs: 1250, timedOut: false, aborted: false });
    expect(o.tail).toContain('[    0.000000] Linux version 6.1.0-fake');
    expect(o.tail.some((l) => /exit 7|start 1.25/.test(l))).toBe(false);
    // the program is found on the guest's PATH here: busybox would run its own sh for a bare name
    expect(readFileSync(path.join(dir, 'args'), 'utf8')).toContain(`${resolveProgram('sh', process.env.PATH!, ROOT)} -c true`);
  });

  it.skipIf(!kvmUsable())('tries KVM, falls back to emulation when QEMU fails, and goes straight there next time', async () => {
    const first = await run('kvmfail', { accel: 'auto' }).done;
    expect(first).toMatchObject({ exitCode: 7, how: 'emulated' });
    expect(first.kvmFallback).toMatch(/kvm_buf_set_msrs/);
    expect(await accelFinding('6.1.0-fake')).toMatchObject({ accel: 'tcg' });
    const again = await run('kvmfail', { accel: 'auto' }).done;
    expect(again).toMatchObject({ exitCode: 7, how: 'emulated' });
    expect(again.kvmFallback).toBeUndefined();
    expect(readFileSync(path.join(dir, 'args'), 'utf8')).toContain('-accel tcg,thread=multi');
  });

  it.skipIf(!kvmUsable())('ends a guest KVM stopped mid-run, without running it again, and notes it for next time', async () => {
    const { lines, done } = run('kvmlate', { accel: 'auto', kernel: { ...kernel, release: '6.1.0-fake-late' } });
    const o = await done;
    expect(o).toMatchObject({ exitCode: null, how: 'kvm', timedOut: false, aborted: false });
    expect(o.problem).toMatch(/KVM internal error/);
    expect(lines).toEqual(['working']);
    expect(gone(Number(readFileSync(path.join(dir, 'pid'), 'utf8')))).toBe(true);
    expect(await accelFinding('6.1.0-fake-late')).toMatchObject({ accel: 'tcg', note: expect.stringMatching(/while the command ran/) });
  });

  it('stops QEMU at the deadline and on an abort, and no exit code is made up', async () => {
    const t = Date.now();
    const late = await run('hang', { deadlineMs: 1500 }).done;
    expect(late).toMatchObject({ exitCode: null, timedOut: true, aborted: false });
    expect(late.problem).toMatch(/deadline.*had not finished/);
    expect(Date.now() - t).toBeLessThan(6000);
    expect(gone(Number(readFileSync(path.join(dir, 'pid'), 'utf8')))).toBe(true);
    const ac = new AbortController();
    const { lines, done } = run('hang', { signal: ac.signal, stopGraceMs: 500 });
    while (!lines.length) await new Promise((r) => setTimeout(r, 20));
    ac.abort('SIGINT');
    // a command that does not stop when asked: QEMU is stopped after the grace time
    expect(await done).toMatchObject({ exitCode: null, aborted: true, timedOut: false, stopAsked: true });
    expect(gone(Number(readFileSync(path.join(dir, 'pid'), 'utf8')))).toBe(true);
  });

  it('an abort once the command runs asks it to stop, so it can write its results, and keeps its exit code', async () => {
    const ac = new AbortController();
    const { lines, done } = run('stoppable', { signal: ac.signal, stopGraceMs: 20_000 });
    while (!lines.length) await new Promise((r) => setTimeout(r, 20));
    const t = Date.now();
    ac.abort('SIGINT');
    const o = await done;
    expect(o).toMatchObject({ exitCode: 143, aborted: false, timedOut: false, stopAsked: true });
    expect(lines).toEqual(['working', 'stopped by the host']);
    expect(Date.now() - t).toBeLessThan(5000); // it ended by itself, long before the grace time
  });

  it("says why when the guest could not run the command, or died", async () => {
    const broken = await run('broken').done;
    expect(broken).toMatchObject({ exitCode: null, problem: 'in the guest: cannot mount the shared folder at /nowhere' });
    const crash = await run('crash').done;
    expect(crash.exitCode).toBeNull();
    expect(crash.problem).toMatch(/the guest ended \(QEMU exit 0\) without an exit code/);
    expect(crash.tail).toContain('Kernel panic - not syncing: fake');
  });

  it('leaves no QEMU behind when our process is SIGKILLed', async () => {
    const child = fileURLToPath(new URL('./probes/guest-hold.ts', import.meta.url));
    rmSync(path.join(dir, 'pid'), { force: true });
    const p = spawn(process.execPath, [...probeArgs(child), JSON.stringify({ kernel, share: path.join(dir, 'share') })], { cwd: ROOT, env: { ...process.env, FAKE_QEMU: 'hang' }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
    const qemu = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    expect(gone(qemu)).toBe(false);
    p.kill('SIGKILL');
    const until = Date.now() + 5000;
    while (!gone(qemu) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const survived = !gone(qemu);
    if (survived) process.kill(qemu, 'SIGKILL');
    expect(survived).toBe(false);
  });
});

describe('line splitting', () => {
  it('joins lines split across chunks and drops carriage returns', () => {
    const s = new PassThrough();
    const got: string[] = [];
    eachLine(s, (l) => got.push(l));
    s.write('ab');
    s.write('c\r\nde');
    s.write('f\n\ng');
    s.end();
    return new Promise<void>((resolve) => s.on('end', () => {
      expect(got).toEqual(['abc', 'def', '', 'g']);
      resolve();
    }));
  });

  it('resolves a program on PATH and refuses an unknown one', () => {
    expect(resolveProgram('sh', '/nonexistent:/usr/bin:/bin', '/')).toMatch(/^\/(usr\/)?bin\/sh$/);
    expect(resolveProgram('./x', '/bin', '/work')).toBe('/work/x');
    expect(() => resolveProgram('no-such-program-here', '/usr/bin', '/')).toThrow(/not a program on the guest's PATH/);
    expect(existsSync('/')).toBe(true);
  });
});
