// Guest kernels, the pure parts: which Debian package a version means, release order, modules.dep load
// order, what a config says, and the cache (find, remove, accel findings) on a made-up cache folder.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { UserError } from '../../harness/errors.ts';
import { accelFinding, accelKey, kernelCacheDir, listKernels, recordAccel, writeEntry, type KernelEntry } from '../../harness/guest/cache.ts';
import { availableSeries, checkSpec, choosePackage, compareReleases, releaseMatches } from '../../harness/guest/debian.ts';
import { findKernel, ownModulesDir, removeKernel } from '../../harness/guest/kernels.ts';
import { bootModules, labFeatures, loadOrder, moduleName, parseBuiltin, parseConfig, parseModulesDep } from '../../harness/guest/modules.ts';

const NAMES = [
  'linux-image-6.1.0-9-amd64-unsigned', 'linux-image-6.1.0-57-amd64-unsigned', 'linux-image-6.1.0-57-cloud-amd64-unsigned',
  'linux-image-6.1.0-57-rt-amd64-unsigned', 'linux-image-6.1.0-56-amd64-unsigned', 'linux-image-6.12.9+deb12-amd64-unsigned',
  'linux-image-6.12.117+deb12-amd64-unsigned', 'linux-image-6.12.117+deb12-cloud-amd64-unsigned', 'linux-image-6.1.0-57-amd64',
  'linux-image-amd64', 'linux-image-6.1.0-57-amd64-dbg', 'linux-image-6.1.0-58-arm64-unsigned',
];

describe('Debian package choice', () => {
  it('takes the newest generic amd64 package of a series, never cloud or rt, and keeps 6.1 and 6.12 apart', () => {
    expect(choosePackage(NAMES, '6.1')).toEqual({ package: 'linux-image-6.1.0-57-amd64-unsigned', release: '6.1.0-57-amd64' });
    expect(choosePackage(NAMES, '6.12')).toEqual({ package: 'linux-image-6.12.117+deb12-amd64-unsigned', release: '6.12.117+deb12-amd64' });
    expect(choosePackage(NAMES, '6.1.0-56')?.release).toBe('6.1.0-56-amd64');
    expect(choosePackage(NAMES, '6.12.9+deb12-amd64')?.release).toBe('6.12.9+deb12-amd64');
    expect(choosePackage(NAMES, '5.10')).toBeUndefined();
    expect(choosePackage(NAMES, '6.1.0-58')).toBeUndefined(); // arm64 only
    expect(availableSeries(NAMES)).toEqual(['6.1', '6.12']);
  });

  it('orders releases by their numbers', () => {
    const sorted = ['6.12.117+deb12-amd64', '6.1.0-9-amd64', '6.12.9+deb12-amd64', '6.1.0-57-amd64', '6.1.0-56-amd64'].sort(compareReleases);
    expect(sorted).toEqual(['6.1.0-9-amd64', '6.1.0-56-amd64', '6.1.0-57-amd64', '6.12.9+deb12-amd64', '6.12.117+deb12-amd64']);
    expect(releaseMatches('6.12.117+deb12-amd64', '6.1')).toBe(false);
    expect(releaseMatches('6.1.0-57-amd64', '6.1')).toBe(true);
  });

  it('refuses what is not a version, in one line', () => {
    for (const bad of ['', 'latest', '6', '../6.1', '6.1 && rm']) expect(() => checkSpec(bad)).toThrow(UserError);
    expect(checkSpec('6.12.117+deb12-amd64')).toBe('6.12.117+deb12-amd64');
  });
});

const DEP = `kernel/fs/overlayfs/overlay.ko:
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/fs/netfs/netfs.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/firmware/qemu_fw_cfg.ko.xz:
kernel/net/9p/9pnet.ko:
kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko
`;

describe('modules', () => {
  it('loads every module after the ones it needs, each once', () => {
    const dep = parseModulesDep(DEP);
    const order = loadOrder(dep, ['virtio_pci', '9pnet_virtio', '9p', 'overlay']).map(moduleName);
    expect(new Set(order).size).toBe(order.length);
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b}`).toBeLessThan(order.indexOf(b));
    before('virtio_ring', 'virtio');
    before('virtio', 'virtio_pci');
    before('virtio_pci_modern_dev', 'virtio_pci');
    before('9pnet', '9pnet_virtio');
    before('netfs', 'fscache');
    before('fscache', '9p');
    expect(order.at(-1)).toBe('overlay');
    expect(moduleName('kernel/drivers/char/hw_random/virtio-rng.ko.zst')).toBe('virtio_rng');
  });

  it('says which module is missing and which one needed it; a cycle is an error too', () => {
    expect(() => loadOrder(parseModulesDep('a.ko: b.ko\n'), ['a'])).toThrow(/module b is not in modules.dep \(needed by a\)/);
    expect(() => loadOrder(parseModulesDep('a.ko: b.ko\nb.ko: a.ko\n'), ['a'])).toThrow(/cycle: a -> b -> a/);
  });

  it('needs from the initramfs only what the config builds as modules, and names a missing symbol', () => {
    const dep = parseModulesDep(DEP);
    const config = parseConfig('CONFIG_VIRTIO_PCI=y\nCONFIG_FW_CFG_SYSFS=m\nCONFIG_NET_9P_VIRTIO=m\nCONFIG_9P_FS=m\nCONFIG_OVERLAY_FS=m\n# CONFIG_INET_DIAG_DESTROY is not set\nCONFIG_LOCALVERSION="x"\n');
    expect(bootModules('r', dep, new Set(), config)).toEqual(['qemu_fw_cfg', '9pnet_virtio', '9p', 'overlay']);
    expect(labFeatures(config).INET_DIAG_DESTROY).toBe('n');
    expect(config.get('LOCALVERSION')).toBe('"x"');
    config.delete('OVERLAY_FS');
    expect(() => bootModules('r', dep, new Set(), config)).toThrow(/kernel r has no CONFIG_OVERLAY_FS \(module overlay\)/);
    // without a config: modules.dep and modules.builtin decide
    const builtin = parseBuiltin('kernel/drivers/virtio/virtio_pci.ko\nkernel/fs/overlayfs/overlay.ko\n');
    dep.delete('virtio_pci');
    dep.delete('overlay');
    expect(bootModules('r', dep, builtin)).toEqual(['qemu_fw_cfg', '9pnet_virtio', '9p']);
    dep.delete('9p');
    expect(() => bootModules('r', dep, builtin)).toThrow(/no CONFIG_9P_FS \(module 9p\), which a guest needs for the shared folders/);
  });
});

describe('the kernel cache', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['TCP_LAB_KERNELS_DIR', 'XDG_CACHE_HOME']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  });

  function cache(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-kernels-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    process.env.TCP_LAB_KERNELS_DIR = dir;
    return dir;
  }

  async function fake(root: string, release: string): Promise<KernelEntry> {
    const dir = path.join(root, release);
    mkdirSync(path.join(dir, 'boot'), { recursive: true });
    mkdirSync(path.join(dir, 'lib/modules', release), { recursive: true });
    writeFileSync(path.join(dir, 'boot', `vmlinuz-${release}`), 'k');
    writeFileSync(path.join(dir, 'initramfs.img'), 'i');
    const e: KernelEntry = { id: release, release, source: 'debian', dir, vmlinuz: path.join(dir, 'boot', `vmlinuz-${release}`), initramfs: path.join(dir, 'initramfs.img'), modules: path.join(dir, 'lib/modules', release), addedAt: '2026-01-01T00:00:00.000Z' };
    await writeEntry(e);
    return e;
  }

  it('lives in $TCP_LAB_KERNELS_DIR, else $XDG_CACHE_HOME/tcp-lab/kernels, else ~/.cache/tcp-lab/kernels', () => {
    process.env.TCP_LAB_KERNELS_DIR = '/x/k';
    expect(kernelCacheDir()).toBe('/x/k');
    delete process.env.TCP_LAB_KERNELS_DIR;
    process.env.XDG_CACHE_HOME = '/x/cache';
    expect(kernelCacheDir()).toBe('/x/cache/tcp-lab/kernels');
    delete process.env.XDG_CACHE_HOME;
    expect(kernelCacheDir()).toBe(path.join(homedir(), '.cache/tcp-lab/kernels'));
  });

  it('finds the newest kernel of a series, an exact release, and says how to add a missing one', async () => {
    const root = cache();
    for (const r of ['6.1.0-9-amd64', '6.1.0-57-amd64', '6.12.117+deb12-amd64']) await fake(root, r);
    mkdirSync(path.join(root, 'broken')); // no kernel.json: not listed
    expect((await listKernels()).map((k) => k.release)).toEqual(['6.1.0-9-amd64', '6.1.0-57-amd64', '6.12.117+deb12-amd64']);
    expect((await findKernel('6.1')).release).toBe('6.1.0-57-amd64');
    expect((await findKernel('6.1.0-9-amd64')).dir).toBe(path.join(root, '6.1.0-9-amd64'));
    expect((await findKernel('6.12')).vmlinuz).toBe(path.join(root, '6.12.117+deb12-amd64/boot/vmlinuz-6.12.117+deb12-amd64'));
    await expect(findKernel('5.10')).rejects.toThrow("no kernel '5.10' in the cache (cached: 6.1.0-9-amd64, 6.1.0-57-amd64, 6.12.117+deb12-amd64): run 'npm run lab kernels -- add 5.10'");
    // kernel.json keeps paths relative to the kernel's folder
    expect(JSON.parse(readFileSync(path.join(root, '6.1.0-57-amd64/kernel.json'), 'utf8')).vmlinuz).toBe('boot/vmlinuz-6.1.0-57-amd64');
  });

  it('removes one kernel by release and its accel findings; an ambiguous spec is refused', async () => {
    const root = cache();
    for (const r of ['6.1.0-9-amd64', '6.1.0-57-amd64']) await fake(root, r);
    await recordAccel('6.1.0-9-amd64', 'tcg', 'KVM failed: test');
    expect(await accelFinding('6.1.0-9-amd64')).toMatchObject({ accel: 'tcg', note: 'KVM failed: test' });
    expect(accelKey('6.1.0-9-amd64', '6.18.0')).toBe('6.1.0-9-amd64 on 6.18.0');
    await expect(removeKernel('6.1')).rejects.toThrow(/matches 6.1.0-9-amd64, 6.1.0-57-amd64: name one release/);
    await expect(removeKernel('6.2')).rejects.toThrow(UserError);
    expect((await removeKernel('6.1.0-9-amd64')).release).toBe('6.1.0-9-amd64');
    expect((await listKernels()).map((k) => k.release)).toEqual(['6.1.0-57-amd64']);
    expect(await accelFinding('6.1.0-9-amd64')).toBeUndefined();
  });

  it('npm run lab kernels lists, removes, and answers mistakes with one line and exit 2', async () => {
    const root = cache();
    for (const r of ['6.1.0-57-amd64', '6.12.117+deb12-amd64']) await fake(root, r);
    await recordAccel('6.12.117+deb12-amd64', 'tcg');
    // the listing as the README types it; the rest through scripts/lab.mjs, which is what npm runs (npm costs ~0.4 CPU-s a start)
    const opts = { cwd: path.resolve(import.meta.dirname, '../..'), reject: false, env: { TCP_LAB_KERNELS_DIR: root } } as const;
    const lab = (...args: string[]) => execa(process.execPath, ['scripts/lab.mjs', 'harness/cli/main.ts', 'kernels', ...args], opts);
    const list = await execa('npm', ['run', '-s', 'lab', 'kernels'], opts);
    expect(list.exitCode).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toBe(`2 kernels in ${root}:`);
    expect(lines[1]).toMatch(/RELEASE\s+SOURCE\s+SIZE\s+RUNS WITH\s+LACKS\s+PATH/);
    expect(lines[2]).toMatch(/^  6\.1\.0-57-amd64\s+debian\s+\d+ bytes\s+not run yet\s+no config\s+\//);
    expect(lines[3]).toMatch(/^  6\.12\.117\+deb12-amd64\s+debian\s+\d+ bytes\s+emulation \(tcg\)/);
    expect(JSON.parse((await lab('--json')).stdout).map((k: { release: string; accel: string | null }) => [k.release, k.accel])).toEqual([['6.1.0-57-amd64', null], ['6.12.117+deb12-amd64', 'tcg']]);
    for (const [args, said] of [
      [['add'], /^lab: add needs a version/],
      [['list', '6.1'], /^lab: 'kernels' lists every cached kernel/],
      [['remove', '6.1', '--vmlinuz', 'x'], /^lab: --vmlinuz and --modules go with add$/],
      [['add', '--vmlinuz', 'x'], /^lab: a kernel of your own needs both/],
      [['add', 'latest'], /^lab: 'latest' is not a kernel version/],
      [['frob'], /^lab: Invalid values/],
    ] as const) {
      const r = await lab(...args);
      expect([r.exitCode, r.stderr.trim().split('\n').length], args.join(' ')).toEqual([2, 1]);
      expect(r.stderr, args.join(' ')).toMatch(said);
    }
    const rm = await lab('remove', '6.12');
    expect([rm.exitCode, rm.stdout]).toEqual([0, `removed 6.12.117+deb12-amd64 (${path.join(root, '6.12.117+deb12-amd64')})`]);
    expect((await listKernels()).map((k) => k.release)).toEqual(['6.1.0-57-amd64']);
  });

  it("finds a user's modules folder in the three shapes", () => {
    const root = cache();
    const rel = '6.9.0-own';
    mkdirSync(path.join(root, 'a/lib/modules', rel), { recursive: true });
    writeFileSync(path.join(root, 'a/lib/modules', rel, 'modules.order'), '');
    expect(ownModulesDir(path.join(root, 'a'), rel)).toBe(path.join(root, 'a/lib/modules', rel));
    expect(ownModulesDir(path.join(root, 'a/lib/modules'), rel)).toBe(path.join(root, 'a/lib/modules', rel));
    expect(ownModulesDir(path.join(root, 'a/lib/modules', rel), rel)).toBe(path.join(root, 'a/lib/modules', rel));
    expect(ownModulesDir(path.join(root, 'a/lib'), rel)).toBeUndefined();
  });
});
