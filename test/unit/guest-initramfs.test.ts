// What a guest boots with: the newc cpio writer (read back by a reader written here and by busybox cpio),
// /init and the stage-2 script (its quoting run through a real sh), QEMU's command line, and the kernel
// image parsing (bzImage header, ELF PVH note) on made-up images and, when cached, a real one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bzImagePayload, bzImageRelease, hasPvhNote } from '../../harness/guest/image.ts';
import { initScript, S_IFCHR, S_IFDIR, S_IFREG, writeCpio } from '../../harness/guest/initramfs.ts';
import { elfIsDynamic } from '../../harness/guest/preflight.ts';
import { qemuArgs, qemuValue } from '../../harness/guest/qemu.ts';
import { parseMarker, shq, stage2Script } from '../../harness/guest/script.ts';

/** A newc reader, independent of the writer: name → { mode, data, rdev }. */
function readCpio(buf: Buffer): Map<string, { mode: number; data: Buffer; rdev: [number, number] }> {
  const out = new Map<string, { mode: number; data: Buffer; rdev: [number, number] }>();
  let at = 0;
  const field = (i: number) => parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
  for (;;) {
    expect(buf.toString('ascii', at, at + 6)).toBe('070701');
    const namesize = field(11);
    const size = field(6);
    const name = buf.toString('utf8', at + 110, at + 110 + namesize - 1);
    const dataAt = Math.ceil((at + 110 + namesize) / 4) * 4;
    if (name === 'TRAILER!!!') return out;
    out.set(name, { mode: field(1), data: buf.subarray(dataAt, dataAt + size), rdev: [field(9), field(10)] });
    at = Math.ceil((dataAt + size) / 4) * 4;
  }
}

describe('the cpio writer', () => {
  const entries = [
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] as [number, number] },
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { name: 'odd-length-name.x', mode: S_IFREG | 0o644, data: Buffer.from('abc') },
  ];

  it('writes newc records, 4-byte aligned, that read back to the same files', () => {
    const buf = writeCpio(entries);
    expect(buf.length % 4).toBe(0);
    const back = readCpio(buf);
    expect([...back.keys()]).toEqual(['bin', 'dev/console', 'init', 'odd-length-name.x']);
    expect(back.get('init')!.data.toString()).toBe('#!/bin/sh\necho hi\n');
    expect(back.get('odd-length-name.x')!.data.toString()).toBe('abc');
    expect(back.get('dev/console')).toMatchObject({ mode: S_IFCHR | 0o600, rdev: [5, 1] });
    expect(writeCpio(entries).equals(buf)).toBe(true); // same input, same bytes
  });

  it.skipIf(!existsSync('/bin/busybox'))('is an archive busybox cpio lists and unpacks', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-cpio-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const archive = writeCpio(entries.filter((e) => !e.rdev));
    expect(execFileSync('/bin/busybox', ['cpio', '-t'], { input: archive, stdio: ['pipe', 'pipe', 'ignore'] }).toString().split('\n').filter(Boolean)).toEqual(['bin', 'init', 'odd-length-name.x']);
    execFileSync('/bin/busybox', ['cpio', '-i', '-d'], { input: archive, cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
    expect(readFileSync(path.join(dir, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
  });
});

describe('the guest scripts', () => {
  it('/init loads the modules in the order given, mounts the root read-only under an overlay, and hands over', () => {
    const s = initScript(['00-virtio.ko', '01-9p.ko']);
    expect(s.startsWith('#!/bin/busybox sh\n')).toBe(true);
    expect(s).toContain('for m in 00-virtio.ko 01-9p.ko; do');
    expect(s).toMatch(/mount -t 9p -o ro,[^ ]*cache=loose hostroot \/lower/);
    expect(s).toContain('lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot');
    expect(s.indexOf('insmod')).toBeLessThan(s.indexOf('mount -t 9p'));
    expect(s).toMatch(/exec switch_root \/newroot \/\.tcp-lab\/busybox sh \/\.tcp-lab\/run/);
  });

  it('quotes words so sh gets them back exactly', () => {
    const words = ['plain', "it's", 'two words', '$HOME', '`id`', 'a\nb', '', '--x=1,2', '*'];
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shq).join(' ')}`]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(words);
    expect(() => shq('a\0b')).toThrow(/NUL/);
  });

  it('stage 2 runs the command in the folder with exactly the given environment, between its markers', () => {
    const s = stage2Script({ nonce: 'abc123', release: '6.1.0-57-amd64', modules: '/c/6.1/lib/modules/6.1.0-57-amd64', share: '/tmp/my share', cwd: '/work/main', command: ['/usr/bin/node', '-e', "console.log('x')"], env: { ZED: '1', PATH: '/usr/bin', TCP_LAB_RAN_ON: 'emulated' } });
    expect(s).toContain("$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=mmap share '/tmp/my share'");
    expect(s).toContain('$B mount --bind /c/6.1/lib/modules/6.1.0-57-amd64 /lib/modules/6.1.0-57-amd64');
    expect(s).toContain("$B env -i PATH=/usr/bin TCP_LAB_RAN_ON=emulated ZED=1 /usr/bin/node -e 'console.log('\\''x'\\'')' </dev/null 2>&1");
    expect(s.indexOf('say start')).toBeLessThan(s.indexOf('$B env -i'));
    expect(s).toContain("printf '\\n%s exit %s\\n' abc123 \"$rc\" >/dev/ttyS1");
    expect(() => stage2Script({ nonce: 'n', release: 'r', modules: '/m', share: '/s', cwd: '/c', command: ['x'], env: { 'A-B': '1' } })).toThrow(/not an environment variable name/);
    expect(() => stage2Script({ nonce: 'n', release: 'r', modules: '/m', share: 'rel', cwd: '/c', command: ['x'], env: {} })).toThrow(/absolute/);
  });

  it('reads markers only with the run nonce', () => {
    expect(parseMarker('abc123 start 3.51', 'abc123')).toEqual({ kind: 'start', uptimeS: 3.51 });
    expect(parseMarker('abc123 exit 7', 'abc123')).toEqual({ kind: 'exit', code: 7 });
    expect(parseMarker('abc123 exit none', 'abc123')).toEqual({ kind: 'exit', code: null });
    expect(parseMarker('zzz exit 0', 'abc123')).toBeUndefined();
    expect(parseMarker('abc123 whatever', 'abc123')).toBeUndefined();
  });

  it("QEMU's command line: no network, doubled commas in values, KVM with the host CPU or TCG with max", () => {
    const a = qemuArgs({ accel: 'tcg', kernel: '/k', initramfs: '/i', share: '/s,1', script: 'a,b', memoryMb: 512, cpus: 2 });
    expect(a.join(' ')).toContain('-nic none');
    expect(a.join(' ')).toContain('-accel tcg,thread=multi -cpu max -m 512 -smp 2');
    expect(a).toContain('local,path=/s,,1,mount_tag=share,security_model=none,multidevs=remap');
    expect(a).toContain('local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
    expect(a).toContain('name=opt/tcp-lab/run,string=a,,b');
    expect(qemuArgs({ accel: 'kvm', kernel: '/k', initramfs: '/i', share: '/s', script: '' }).join(' ')).toContain('-accel kvm -cpu host -m 1024');
    expect(qemuValue('x,,y')).toBe('x,,,,y');
  });
});

/** A minimal bzImage header: boot protocol 2.15, version string at 0x300, payload of `payload`. */
function fakeBzImage(version: string, payload: Buffer): Buffer {
  const img = Buffer.alloc(5 * 512 + 64 + payload.length + 4);
  img[0x1f1] = 4;
  img.write('HdrS', 0x202, 'latin1');
  img.writeUInt16LE(0x020f, 0x206);
  img.writeUInt16LE(0x100, 0x20e);
  img.write(`${version}\0`, 0x300, 'latin1');
  img.writeUInt32LE(64, 0x248);
  img.writeUInt32LE(payload.length + 4, 0x24c);
  payload.copy(img, 5 * 512 + 64);
  return img;
}

/** An ELF64 with one PT_NOTE holding the given (name, type) notes. */
function fakeElf(notes: [string, number][], interp = false): Buffer {
  const body = Buffer.concat(notes.map(([name, type]) => {
    const n = Buffer.alloc(12 + Math.ceil((name.length + 1) / 4) * 4 + 4);
    n.writeUInt32LE(name.length + 1, 0);
    n.writeUInt32LE(4, 4);
    n.writeUInt32LE(type, 8);
    n.write(name, 12, 'latin1');
    return n;
  }));
  const phnum = interp ? 2 : 1;
  const elf = Buffer.alloc(64 + 56 * phnum + body.length);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2;
  elf[5] = 1;
  elf.writeBigUInt64LE(64n, 0x20);
  elf.writeUInt16LE(56, 0x36);
  elf.writeUInt16LE(phnum, 0x38);
  elf.writeUInt32LE(4, 64);
  elf.writeBigUInt64LE(BigInt(64 + 56 * phnum), 64 + 8);
  elf.writeBigUInt64LE(BigInt(body.length), 64 + 32);
  if (interp) elf.writeUInt32LE(3, 64 + 56);
  body.copy(elf, 64 + 56 * phnum);
  return elf;
}

describe('kernel images', () => {
  it('reads the release and the compressed payload from a bzImage header', () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
    const img = fakeBzImage('6.9.1-own (me@here) #1 SMP', xz);
    expect(bzImageRelease(img)).toBe('6.9.1-own');
    expect(bzImagePayload(img)).toEqual({ method: 'xz', data: xz });
    expect(bzImagePayload(fakeBzImage('x', Buffer.from('plain data')))).toBeUndefined();
    expect(bzImageRelease(Buffer.alloc(4096))).toBeUndefined();
  });

  it("finds Xen's PVH entry note, and tells static ELF files from dynamic ones", () => {
    expect(hasPvhNote(fakeElf([['GNU', 3], ['Xen', 18]]))).toBe(true);
    expect(hasPvhNote(fakeElf([['Xen', 6], ['GNU', 18]]))).toBe(false);
    expect(hasPvhNote(Buffer.from('not an elf at all, but long enough to have a header of sixty-four bytes'))).toBe(false);
    expect(elfIsDynamic(fakeElf([]))).toBe(false);
    expect(elfIsDynamic(fakeElf([], true))).toBe(true);
    expect(elfIsDynamic(readFileSync(process.execPath))).toBe(true);
  });

  const cached = path.join(process.env.HOME ?? '/root', '.cache/tcp-lab/kernels/6.1.0-57-amd64');
  it.skipIf(!existsSync(path.join(cached, 'kernel.json')))('reads a real Debian kernel (the cached 6.1)', () => {
    const img = readFileSync(path.join(cached, 'boot/vmlinuz-6.1.0-57-amd64'));
    expect(bzImageRelease(img)).toBe('6.1.0-57-amd64');
    expect(bzImagePayload(img)?.method).toBe('xz');
  });
});
