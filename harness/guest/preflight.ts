// What running a guest, and preparing a kernel for one, needs on this machine; each missing piece is
// a one-line UserError saying what to install.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { UserError } from '../errors.ts';
import { toolPath, which } from '../kernel/exec.ts';

const SETUP = 'run scripts/setup.sh --kernels';

/** Does this ELF file ask for a dynamic loader (a PT_INTERP program header)? undefined: not a 64-bit ELF. */
export function elfIsDynamic(elf: Buffer): boolean | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const at = phoff + i * size;
    if (at + 4 <= elf.length && elf.readUInt32LE(at) === 3) return true;
  }
  return false;
}

async function need(program: string, pkg: string): Promise<string> {
  const p = await which(program);
  if (!p) throw new UserError(`'${program}' (package ${pkg}) is not installed: ${SETUP}`);
  return p;
}

/** The static busybox that goes into each initramfs. */
export async function staticBusybox(): Promise<string> {
  const p = await need('busybox', 'busybox-static');
  if (elfIsDynamic(await readFile(p)) !== false) throw new UserError(`${p} is not a statically linked busybox (package busybox-static): ${SETUP}`);
  return p;
}

let checked: Promise<void> | undefined;

/** QEMU, setpriv with --pdeathsig, kmod (the guest's module autoloading runs the host's modprobe) and busybox. */
export function guestPreflight(): Promise<void> {
  checked ??= (async () => {
    await need('qemu-system-x86_64', 'qemu-system-x86');
    await need('modprobe', 'kmod');
    await staticBusybox();
    await need('setpriv', 'util-linux');
    const r = await execa('setpriv', ['--pdeathsig', 'KILL', 'true'], { reject: false, env: { PATH: toolPath() } });
    if (r.exitCode !== 0) throw new UserError(`this setpriv cannot set a parent-death signal (util-linux 2.33 or later is needed): ${SETUP}`);
  })();
  checked.catch(() => {
    checked = undefined;
  });
  return checked;
}

/** Preparing a kernel: depmod (kmod) and busybox; for a Debian package also apt-get and dpkg-deb. */
export async function kernelToolsPreflight(debian: boolean): Promise<string> {
  await need('depmod', 'kmod');
  if (debian) {
    await need('apt-get', 'apt');
    await need('dpkg-deb', 'dpkg');
  }
  return staticBusybox();
}
