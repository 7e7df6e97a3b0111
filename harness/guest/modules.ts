// The kernel modules a guest needs before it can mount its root (virtio PCI, 9p over virtio, overlayfs,
// QEMU's fw_cfg files), found in a kernel's modules.dep and put in load order; and what a kernel's config
// says about the features the labs use.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { UserError } from '../errors.ts';

/** Modules the initramfs loads, with the config symbol that builds each (for messages) and what it is for. */
export const BOOT_MODULES = [
  { name: 'virtio_pci', symbol: 'VIRTIO_PCI', why: 'the virtio devices' },
  { name: 'qemu_fw_cfg', symbol: 'FW_CFG_SYSFS', why: 'reading the command to run' },
  { name: '9pnet_virtio', symbol: 'NET_9P_VIRTIO', why: 'the shared folders' },
  { name: '9p', symbol: '9P_FS', why: 'the shared folders' },
  { name: 'overlay', symbol: 'OVERLAY_FS', why: 'a writable root' },
] as const;

/** Config symbols the labs rely on, recorded per kernel (y, m or n) so a missing one can be named. */
export const LAB_FEATURES = [
  'USER_NS', 'NET_NS', 'VETH', 'PACKET', 'INET_DIAG', 'INET_TCP_DIAG', 'INET_DIAG_DESTROY', 'NF_TABLES', 'NF_TABLES_INET', 'NFT_CT', 'NF_CONNTRACK', 'NET_SCH_NETEM', 'MODULES',
] as const;

/** Module name as the kernel knows it: file name without .ko[.xz|.zst|.gz], dashes as underscores. */
export function moduleName(file: string): string {
  return (file.split('/').pop() ?? file).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** modules.dep → name → { path, deps (paths) }. */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const out = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const path = line.slice(0, i).trim();
    out.set(moduleName(path), { path, deps: line.slice(i + 1).trim().split(/\s+/).filter(Boolean) });
  }
  return out;
}

/** Every module the wanted ones need, each after the modules it depends on, each once (module paths). */
export function loadOrder(dep: Map<string, { path: string; deps: string[] }>, wanted: readonly string[]): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (name: string, chain: string[]) => {
    if (done.has(name)) return;
    const e = dep.get(name);
    if (!e) throw new Error(`module ${name} is not in modules.dep${chain.length ? ` (needed by ${chain.join(' <- ')})` : ''}`);
    if (chain.includes(name)) throw new Error(`modules.dep has a dependency cycle: ${[...chain, name].join(' -> ')}`);
    // modprobe loads a module's list from its end; doing the same keeps the order it would use
    for (const d of [...e.deps].reverse()) visit(moduleName(d), [...chain, name]);
    done.add(name);
    order.push(e.path);
  };
  for (const w of wanted) visit(w, []);
  return order;
}

/** `CONFIG_X=y|m|"str"` lines → X → value; `# CONFIG_X is not set` → n. */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^CONFIG_(\w+)=(.*)$/.exec(line) ?? /^# CONFIG_(\w+) is not set$/.exec(line);
    if (m) out.set(m[1], m[2] ?? 'n');
  }
  return out;
}

/** y / m / n of each lab feature, in a fixed order. */
export function labFeatures(config: Map<string, string>): Record<string, 'y' | 'm' | 'n'> {
  return Object.fromEntries(LAB_FEATURES.map((s) => {
    const v = config.get(s);
    return [s, v === 'y' || v === 'm' ? v : 'n'];
  }));
}

/**
 * The boot modules this kernel builds as modules (built-in ones need nothing). With a config (Debian ships
 * one) its =y/=m decides; without (a user's own kernel) modules.dep and modules.builtin do. A required one
 * that is neither is a UserError naming its config symbol.
 */
export function bootModules(release: string, dep: Map<string, { path: string; deps: string[] }>, builtin: Set<string>, config?: Map<string, string>): string[] {
  const wanted: string[] = [];
  for (const m of BOOT_MODULES) {
    const v = config?.get(m.symbol);
    const isModule = config ? v === 'm' : dep.has(m.name);
    const isBuiltin = config ? v === 'y' : builtin.has(m.name);
    if (isModule && !dep.has(m.name)) throw new UserError(`kernel ${release}: its config builds ${m.name} (CONFIG_${m.symbol}=m) but modules.dep does not list it`);
    if (isModule) wanted.push(m.name);
    else if (!isBuiltin) throw new UserError(`kernel ${release} has no CONFIG_${m.symbol} (module ${m.name}), which a guest needs for ${m.why}`);
  }
  return wanted;
}

/** modules.builtin ("kernel/fs/foo.ko" lines) → module names. */
export function parseBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}

/** A module file's contents, decompressed (busybox's insmod takes plain .ko files only). */
export async function moduleBytes(file: string): Promise<Buffer> {
  if (file.endsWith('.ko')) return readFile(file);
  if (file.endsWith('.ko.gz')) return gunzipSync(await readFile(file));
  const tool = file.endsWith('.ko.xz') ? 'xz' : file.endsWith('.ko.zst') ? 'zstd' : undefined;
  if (!tool) throw new Error(`${file}: not a kernel module file name`);
  const r = await execa(tool, ['-dc', file], { encoding: 'buffer', reject: false });
  if (r.exitCode !== 0) {
    if ((r as { code?: string }).code === 'ENOENT') throw new UserError(`this kernel's modules are compressed and '${tool}' is not installed: run scripts/setup.sh --kernels`);
    throw new Error(`${tool} -dc ${file} failed: ${Buffer.from(r.stderr).toString().trim()}`);
  }
  return Buffer.from(r.stdout);
}
