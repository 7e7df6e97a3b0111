// Debian's kernel packages: which one a spec like "6.1" means (from the names in the apt lists), and
// fetching it with apt-get download (no root needed once the lists exist) and dpkg-deb.
import { execa } from 'execa';
import { quote, UserError } from '../errors.ts';
import { toolPath } from '../kernel/exec.ts';

/** What a user may ask for: "6.1", "6.12", "6.1.0-57", "6.12.117+deb12-amd64". */
export function checkSpec(spec: string): string {
  if (!/^\d+\.\d+[\w.+~-]*$/.test(spec)) throw new UserError(`${quote(spec)} is not a kernel version; give one like 6.1, 6.12 or a full release such as 6.1.0-57-amd64`);
  return spec;
}

/** Does a kernel release belong to a spec? "6.1" matches 6.1.0-57-amd64 but not 6.12.117+deb12-amd64. */
export function releaseMatches(release: string, spec: string): boolean {
  return release === spec || ['.', '-', '+', '~'].some((sep) => release.startsWith(spec + sep));
}

/** Order of kernel releases: numbers compared as numbers, the rest as text ("6.1.0-9" < "6.1.0-57" < "6.12.1"). */
export function compareReleases(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|[^\d]+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    if (p === q) continue;
    const np = /^\d/.test(p);
    const nq = /^\d/.test(q);
    if (np && nq) return Number(p) - Number(q) || p.length - q.length;
    if (np !== nq) return np ? 1 : -1; // 6.1.0 sorts after 6.1-rc (a number beats a separator)
    return p < q ? -1 : 1;
  }
  return 0;
}

/** The newest generic amd64 kernel package (not cloud, not rt) for a spec, from package names. */
export function choosePackage(names: readonly string[], spec: string): { package: string; release: string } | undefined {
  const found = names.flatMap((n) => {
    const m = /^linux-image-(\d[\w.+~-]*-amd64)-unsigned$/.exec(n);
    if (!m || /-(cloud|rt)-amd64$/.test(m[1]) || !releaseMatches(m[1], spec)) return [];
    return [{ package: n, release: m[1] }];
  });
  return found.sort((a, b) => compareReleases(b.release, a.release))[0];
}

/** Releases of the generic packages in the lists, for a message that says what there is. */
export function availableSeries(names: readonly string[]): string[] {
  const series = new Set<string>();
  for (const n of names) {
    const m = /^linux-image-(\d+\.\d+)[\w.+~-]*-amd64-unsigned$/.exec(n);
    if (m && !/-(cloud|rt)-amd64-unsigned$/.test(n)) series.add(m[1]);
  }
  return [...series].sort(compareReleases);
}

const env = () => ({ PATH: toolPath(), LC_ALL: 'C' });

/** Names of the linux-image packages the apt lists know; a UserError when there are no lists. */
export async function kernelPackageNames(): Promise<string[]> {
  const r = await execa('apt-cache', ['pkgnames', 'linux-image-'], { reject: false, env: env(), timeout: 60_000 });
  if ((r as { code?: string }).code === 'ENOENT') throw new UserError("fetching Debian kernels needs apt (apt-cache was not found); on another system add your own with 'npm run lab kernels -- add --vmlinuz F --modules D'");
  const names = r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (r.exitCode !== 0 || !names.length) throw new UserError("the apt package lists are empty or missing: run 'apt-get update' (as root), then try again");
  return names;
}

/** apt-get download one package into `dir`; resolves with the .deb's path. */
export async function downloadPackage(pkg: string, dir: string): Promise<string> {
  // as root apt hands the download to its _apt user, which cannot write a private folder: stay root instead
  const sandbox = process.geteuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
  const r = await execa('apt-get', [...sandbox, '-q', 'download', pkg], { cwd: dir, reject: false, env: env(), timeout: 30 * 60_000 });
  if (r.exitCode !== 0) {
    const said = (r.stderr || r.stdout || r.shortMessage || '').trim().split('\n').filter((l) => !/^W:/.test(l)).slice(-2).join(' | ');
    throw new UserError(`apt-get download ${pkg} failed: ${said || `exit ${r.exitCode}`}`);
  }
  const { readdirSync } = await import('node:fs');
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  return `${dir}/${deb}`;
}

/** Unpack a .deb's files (dpkg-deb -x) into `root`. */
export async function unpackPackage(deb: string, root: string): Promise<void> {
  const r = await execa('dpkg-deb', ['-x', deb, root], { reject: false, env: env(), timeout: 10 * 60_000 });
  if (r.exitCode !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${(r.stderr || r.shortMessage || '').trim()}`);
}
