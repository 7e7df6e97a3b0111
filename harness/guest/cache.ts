// The kernel cache's layout: one folder per kernel release (<cache>/<release>/) holding the kernel image, its
// modules (lib/modules/<release>), the guest's initramfs and kernel.json; accel.json beside them records
// which accelerator worked for each kernel on this host's kernel.
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir, release as hostRelease } from 'node:os';
import path from 'node:path';
import { compareReleases } from './debian.ts';

export interface KernelEntry {
  /** the folder's name under the cache: the release */
  id: string;
  release: string;
  source: 'debian' | 'own';
  package?: string;
  dir: string;
  vmlinuz: string;
  /** the ELF kernel inside vmlinuz, when it can be started directly (PVH); boots faster emulated */
  vmlinux?: string;
  initramfs: string;
  /** lib/modules/<release> */
  modules: string;
  addedAt: string;
  /** the config's y / m / n for the features labs use (absent without a config) */
  features?: Record<string, 'y' | 'm' | 'n'>;
  /** the modules the initramfs loads, in order */
  bootModules?: string[];
}

export type Accel = 'kvm' | 'tcg';
export interface AccelFinding { accel: Accel; at: string; note?: string }

/** $TCP_LAB_KERNELS_DIR, else $XDG_CACHE_HOME/tcp-lab/kernels, else ~/.cache/tcp-lab/kernels. */
export function kernelCacheDir(): string {
  const own = process.env.TCP_LAB_KERNELS_DIR;
  if (own) return path.resolve(own);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache'), 'tcp-lab', 'kernels');
}

const PATH_KEYS = ['vmlinuz', 'vmlinux', 'initramfs', 'modules'] as const;

/** kernel.json keeps paths relative to the kernel's folder, so a moved cache still works. */
export async function writeEntry(e: KernelEntry, dir = e.dir): Promise<void> {
  const stored: Record<string, unknown> = { ...e };
  delete stored.dir;
  for (const k of PATH_KEYS) if (e[k]) stored[k] = path.relative(e.dir, e[k]!);
  const sorted = Object.fromEntries(Object.keys(stored).sort().map((k) => [k, stored[k]]));
  await writeFile(path.join(dir, 'kernel.json'), JSON.stringify(sorted, null, 2) + '\n');
}

async function readEntry(dir: string): Promise<KernelEntry | undefined> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path.join(dir, 'kernel.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const e = { ...raw, dir } as unknown as KernelEntry;
  for (const k of PATH_KEYS) if (typeof raw[k] === 'string') (e as unknown as Record<string, string>)[k] = path.resolve(dir, raw[k] as string);
  return typeof e.release === 'string' && existsSync(e.vmlinuz) && existsSync(e.initramfs) ? e : undefined;
}

/** Every complete kernel in the cache, oldest release first. */
export async function listKernels(): Promise<KernelEntry[]> {
  const root = kernelCacheDir();
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const entries = await Promise.all(names.filter((n) => !n.startsWith('.')).map((n) => readEntry(path.join(root, n))));
  return entries.filter((e): e is KernelEntry => !!e).sort((a, b) => compareReleases(a.release, b.release));
}

/** Bytes under a folder (files only, links not followed). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) total += await folderBytes(p);
    else if (d.isFile()) total += (await stat(p)).size;
  }
  return total;
}

const accelFile = () => path.join(kernelCacheDir(), 'accel.json');

/** The key of a finding: the guest's kernel and the host's (a KVM that fails on one host may work on the next). */
export function accelKey(release: string, host = hostRelease()): string {
  return `${release} on ${host}`;
}

async function readFindings(): Promise<Record<string, AccelFinding>> {
  try {
    return JSON.parse(await readFile(accelFile(), 'utf8')) as Record<string, AccelFinding>;
  } catch {
    return {};
  }
}

async function writeFindings(f: Record<string, AccelFinding>): Promise<void> {
  const sorted = Object.fromEntries(Object.keys(f).sort().map((k) => [k, f[k]]));
  await writeFile(`${accelFile()}.${process.pid}`, JSON.stringify(sorted, null, 2) + '\n');
  await rename(`${accelFile()}.${process.pid}`, accelFile());
}

export async function accelFinding(release: string): Promise<AccelFinding | undefined> {
  return (await readFindings())[accelKey(release)];
}

export async function recordAccel(release: string, accel: Accel, note?: string): Promise<void> {
  const f = await readFindings();
  f[accelKey(release)] = { accel, at: new Date().toISOString(), ...(note ? { note } : {}) };
  await writeFindings(f);
}

export async function forgetAccel(release: string): Promise<void> {
  const f = await readFindings();
  const keys = Object.keys(f).filter((k) => k.startsWith(`${release} on `));
  if (!keys.length) return;
  for (const k of keys) delete f[k];
  await writeFindings(f);
}
