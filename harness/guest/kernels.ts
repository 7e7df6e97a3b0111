// The kernels a guest can boot: find one in the cache by version, add one (Debian's package for a version,
// or a user's own kernel and modules), remove one. The cache's layout is in cache.ts.
import { existsSync, statSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { quote, UserError } from '../errors.ts';
import { forgetAccel, kernelCacheDir, listKernels, type KernelEntry } from './cache.ts';
import { availableSeries, checkSpec, choosePackage, downloadPackage, kernelPackageNames, releaseMatches, unpackPackage } from './debian.ts';
import { bzImageRelease } from './image.ts';
import { kernelToolsPreflight } from './preflight.ts';
import { finishKernel } from './prepare.ts';

export { kernelCacheDir, listKernels, type KernelEntry } from './cache.ts';

/** '6.1' → the newest cached kernel whose release starts with 6.1. (or -); an exact release → that one. */
export async function findKernel(spec: string): Promise<KernelEntry> {
  checkSpec(spec);
  const all = await listKernels();
  const hit = all.find((k) => k.release === spec) ?? all.filter((k) => releaseMatches(k.release, spec)).pop();
  if (hit) return hit;
  const have = all.length ? ` (cached: ${all.map((k) => k.release).join(', ')})` : '';
  throw new UserError(`no kernel ${quote(spec)} in the cache${have}: run 'npm run lab kernels -- add ${spec}'`);
}

/** Remove a cached kernel by its exact release (or a spec naming exactly one). */
export async function removeKernel(spec: string): Promise<KernelEntry> {
  checkSpec(spec);
  const all = await listKernels();
  const exact = all.find((k) => k.release === spec);
  const matching = exact ? [exact] : all.filter((k) => releaseMatches(k.release, spec));
  if (matching.length !== 1) {
    throw new UserError(matching.length
      ? `${quote(spec)} matches ${matching.map((k) => k.release).join(', ')}: name one release`
      : `no kernel ${quote(spec)} in the cache${all.length ? ` (cached: ${all.map((k) => k.release).join(', ')})` : ''}`);
  }
  await rm(matching[0].dir, { recursive: true, force: true });
  await forgetAccel(matching[0].release);
  return matching[0];
}

/** Staging folders are `.tmp-<pid>-*`: remove those whose process is gone (killed mid-add). */
async function sweepStaging(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
    if (!pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** Where a user's modules folder keeps `release`: <d>/lib/modules/<release>, <d>/<release> or <d> itself. */
export function ownModulesDir(dir: string, release: string): string | undefined {
  const tries = [path.join(dir, 'lib/modules', release), path.join(dir, release), dir];
  return tries.find((d) => existsSync(path.join(d, 'modules.order')) && (d !== dir || path.basename(d) === release || existsSync(path.join(dir, 'kernel'))));
}

async function stageOwn(spec: string, own: { vmlinuz: string; modules: string }, stage: string, progress: (line: string) => void): Promise<string> {
  const img = path.resolve(own.vmlinuz);
  if (!existsSync(img) || !statSync(img).isFile()) throw new UserError(`--vmlinuz ${quote(own.vmlinuz)}: no such file`);
  const release = bzImageRelease(await readFile(img));
  if (!release) throw new UserError(`--vmlinuz ${quote(own.vmlinuz)} is not an x86 kernel image (bzImage)`);
  if (spec && !releaseMatches(release, spec)) throw new UserError(`--vmlinuz ${quote(own.vmlinuz)} is kernel ${release}, not ${quote(spec)}`);
  const mods = ownModulesDir(path.resolve(own.modules), release);
  if (!mods) throw new UserError(`--modules ${quote(own.modules)}: no modules for ${release} there (expected lib/modules/${release}, ${release}/ or that folder itself, with modules.order)`);
  progress(`copying kernel ${release} and its modules from ${mods}`);
  await mkdir(path.join(stage, 'boot'), { recursive: true });
  await copyFile(img, path.join(stage, 'boot', `vmlinuz-${release}`));
  const config = [path.join(path.dirname(img), `config-${release}`), path.join(mods, 'build/.config')].find((c) => existsSync(c));
  if (config) await copyFile(config, path.join(stage, 'boot', `config-${release}`));
  await cp(mods, path.join(stage, 'lib/modules', release), { recursive: true, dereference: false, filter: (src) => !/\/(build|source)$/.test(src) });
  return release;
}

/**
 * Add a kernel to the cache. `spec` ("6.1", "6.12", a full release): the newest matching Debian package,
 * downloaded with apt-get (nothing is installed). With `own`: that kernel image and modules folder (spec, if
 * given, must match its release). Staging folders are removed afterwards, also on failure.
 */
export async function addKernel(spec: string, progress: (line: string) => void, own?: { vmlinuz: string; modules: string }): Promise<KernelEntry> {
  if (spec || !own) checkSpec(spec);
  const busybox = await kernelToolsPreflight(!own);
  const root = kernelCacheDir();
  await mkdir(root, { recursive: true });
  await sweepStaging(root);
  let pick: { package: string; release: string } | undefined;
  if (!own) {
    const names = await kernelPackageNames();
    pick = choosePackage(names, spec);
    if (!pick) throw new UserError(`no Debian package linux-image-${spec}…-amd64-unsigned in the apt lists (kernel series there: ${availableSeries(names).join(', ') || 'none'})`);
    const cached = (await listKernels()).find((k) => k.release === pick!.release);
    if (cached) {
      progress(`${pick.release} is already in the cache (${cached.dir})`);
      return cached;
    }
  }
  const tmp = await mkdtemp(path.join(root, `.tmp-${process.pid}-`));
  try {
    const stage = path.join(tmp, 'kernel');
    let release: string;
    if (pick) {
      progress(`downloading ${pick.package}`);
      const deb = await downloadPackage(pick.package, tmp);
      progress(`unpacking ${path.basename(deb)} (${((await stat(deb)).size / (1 << 20)).toFixed(1)} MiB)`);
      await unpackPackage(deb, stage);
      await rm(deb, { force: true });
      release = pick.release;
    } else {
      release = await stageOwn(spec, own!, stage, progress);
      if ((await listKernels()).some((k) => k.release === release)) throw new UserError(`kernel ${release} is already in the cache: 'npm run lab kernels -- remove ${release}' first`);
    }
    const entry = await finishKernel({ stage, final: path.join(root, release), release, source: pick ? 'debian' : 'own', package: pick?.package, busybox }, progress);
    progress(`kernel ${entry.release} ready in ${entry.dir}`);
    return entry;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
