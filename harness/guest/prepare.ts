// Turn an unpacked kernel (boot/vmlinuz-<release>, lib/modules/<release>) in a staging folder into a cache
// entry: depmod, the ELF kernel for a direct (PVH) start, the initramfs, kernel.json; then move it in place.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { toolPath } from '../kernel/exec.ts';
import { listKernels, writeEntry, type KernelEntry } from './cache.ts';
import { extractVmlinux } from './image.ts';
import { buildInitramfs } from './initramfs.ts';
import { bootModules, labFeatures, loadOrder, parseBuiltin, parseConfig, parseModulesDep } from './modules.ts';

export interface Staged {
  /** staging folder; becomes `final` */
  stage: string;
  final: string;
  release: string;
  source: 'debian' | 'own';
  package?: string;
  busybox: string;
}

/** Only boot/ and lib/modules/<release> are kept; a package that puts modules under usr/lib is moved to lib/. */
async function tidy(s: Staged): Promise<void> {
  const lib = path.join(s.stage, 'lib/modules', s.release);
  const usrLib = path.join(s.stage, 'usr/lib/modules', s.release);
  if (!existsSync(lib) && existsSync(usrLib)) {
    await mkdir(path.dirname(lib), { recursive: true });
    await rename(usrLib, lib);
  }
  if (!existsSync(path.join(lib, 'modules.order')) && !existsSync(path.join(lib, 'kernel'))) throw new Error(`no modules for ${s.release} in the unpacked kernel`);
  for (const name of await readdir(s.stage)) if (name !== 'boot' && name !== 'lib') await rm(path.join(s.stage, name), { recursive: true, force: true });
  for (const name of await readdir(path.join(s.stage, 'lib'))) if (name !== 'modules') await rm(path.join(s.stage, 'lib', name), { recursive: true, force: true });
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function finishKernel(s: Staged, progress: (line: string) => void): Promise<KernelEntry> {
  await tidy(s);
  const modules = path.join(s.stage, 'lib/modules', s.release);
  progress(`depmod ${s.release}`);
  const d = await execa('depmod', ['-b', s.stage, s.release], { reject: false, env: { PATH: toolPath() } });
  if (d.exitCode !== 0) throw new Error(`depmod -b ${s.stage} ${s.release} failed: ${(d.stderr || d.shortMessage || "").trim()}`);
  const vmlinuz = path.join(s.stage, 'boot', `vmlinuz-${s.release}`);
  progress('extracting the ELF kernel (a direct start skips firmware and decompression)');
  const vmlinux = path.join(s.stage, 'boot', `vmlinux-${s.release}`);
  const direct = await extractVmlinux(vmlinuz, vmlinux);
  const configText = await readText(path.join(s.stage, 'boot', `config-${s.release}`));
  const config = configText === undefined ? undefined : parseConfig(configText);
  const dep = parseModulesDep((await readText(path.join(modules, 'modules.dep'))) ?? '');
  const builtin = parseBuiltin((await readText(path.join(modules, 'modules.builtin'))) ?? '');
  const order = loadOrder(dep, bootModules(s.release, dep, builtin, config));
  progress(`building the initramfs (busybox and ${order.length} modules)`);
  const initramfs = path.join(s.stage, 'initramfs.img');
  const built = await buildInitramfs(initramfs, s.busybox, modules, order);
  const at = (p: string) => path.join(s.final, path.relative(s.stage, p));
  const entry: KernelEntry = {
    id: s.release,
    release: s.release,
    source: s.source,
    ...(s.package ? { package: s.package } : {}),
    dir: s.final,
    vmlinuz: at(vmlinuz),
    ...(direct ? { vmlinux: at(vmlinux) } : {}),
    initramfs: at(initramfs),
    modules: at(modules),
    addedAt: new Date().toISOString(),
    ...(config ? { features: labFeatures(config) } : {}),
    bootModules: built.modules,
  };
  await writeEntry(entry, s.stage);
  // a folder of that name without a complete kernel.json is a leftover: replace it
  if (existsSync(s.final)) {
    const there = (await listKernels()).find((k) => k.dir === s.final);
    if (there) return there;
    await rm(s.final, { recursive: true, force: true });
  }
  await rename(s.stage, s.final);
  return entry;
}
