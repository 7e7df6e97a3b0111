// The guest's initramfs: a gzip'd newc cpio archive holding a static busybox, the boot modules (plain .ko,
// in load order) and /init, which loads them, mounts the host's root (9p, read-only) under a tmpfs overlay
// and hands over to the run's own script (read from QEMU's fw_cfg) as PID 1 of that root.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { moduleBytes } from './modules.ts';

export interface CpioEntry {
  name: string;
  /** full st_mode: type bits and permissions */
  mode: number;
  data?: Buffer;
  /** a device node's major and minor */
  rdev?: [number, number];
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** A newc ("070701") cpio archive: owner root, mtime 0, inodes numbered in order, so the same input gives the same bytes. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const add = (e: CpioEntry, ino: number) => {
    const name = Buffer.from(`${e.name}\0`);
    const data = e.data ?? Buffer.alloc(0);
    const fields = [ino, e.mode, 0, 0, e.mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'ascii');
    parts.push(header, name, Buffer.alloc(pad4(header.length + name.length)), data, Buffer.alloc(pad4(data.length)));
  };
  entries.forEach((e, i) => add(e, i + 1));
  add({ name: 'TRAILER!!!', mode: 0 }, 0);
  return Buffer.concat(parts);
}

/** Where the stage-2 script arrives: a QEMU fw_cfg file named so, read through sysfs. */
export const FW_CFG_NAME = 'opt/tcp-lab/run';

/** Folder in the guest's root for busybox and the run's script (in the tmpfs upper layer only). */
export const GUEST_DIR = '/.tcp-lab';

/** 9p mount options: big messages; the read-only root caches freely, the shared folder does not. */
export const P9_OPTS = 'trans=virtio,version=9p2000.L,msize=524288';

/** /init of the initramfs: `modules` are file names under /modules, in load order. */
export function initScript(modules: readonly string[]): string {
  return `#!/bin/busybox sh
# tcp-lab guest, stage 1: load the boot modules, mount the host's root read-only under a tmpfs overlay,
# then run the script QEMU hands over (fw_cfg ${FW_CFG_NAME}) as PID 1 of that root.
export PATH=/bin
fail() { echo "tcp-lab-init: $*"; sync; poweroff -f; sleep 5; }
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${modules.join(' ')}; do
  insmod /modules/$m || fail "insmod $m failed"
done
mount -t 9p -o ro,${P9_OPTS},cache=loose hostroot /lower || fail "cannot mount the host's root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir /rw/upper /rw/work || fail "cannot make the overlay's tmpfs"
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "cannot mount the overlay root"
mkdir -p /newroot${GUEST_DIR} && cp /bin/busybox /newroot${GUEST_DIR}/busybox || fail "cannot write to the overlay root"
cat /sys/firmware/qemu_fw_cfg/by_name/${FW_CFG_NAME}/raw > /newroot${GUEST_DIR}/run || fail "no run script in fw_cfg ${FW_CFG_NAME}"
umount /proc /sys /dev
exec switch_root /newroot ${GUEST_DIR}/busybox sh ${GUEST_DIR}/run
fail "switch_root failed"
`;
}

/** Build `<dir>/initramfs.img` from a static busybox and the module files (paths relative to modulesDir). */
export async function buildInitramfs(out: string, busybox: string, modulesDir: string, order: readonly string[]): Promise<{ bytes: number; modules: string[] }> {
  const names = order.map((p, i) => `${String(i).padStart(2, '0')}-${path.basename(p).replace(/\.ko(\.\w+)?$/, '.ko')}`);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'lower', 'rw', 'newroot', 'modules'].map((d) => ({ name: d, mode: S_IFDIR | 0o755 })),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: await readFile(busybox) },
    { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(initScript(names)) },
  ];
  for (const [i, p] of order.entries()) entries.push({ name: `modules/${names[i]}`, mode: S_IFREG | 0o644, data: await moduleBytes(path.join(modulesDir, p)) });
  const img = gzipSync(writeCpio(entries), { level: 9 });
  await writeFile(`${out}.part`, img);
  await rename(`${out}.part`, out);
  return { bytes: img.length, modules: names };
}
