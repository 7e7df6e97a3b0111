// Which prebuilt harness this process runs from, if any: scripts/lab.mjs names the build folder (made by
// build.mjs) in TCP_LAB_BUILD, for the CLI and every process it starts. The registry imports a lab's bundle
// instead of its .ts file, and the sandbox starts the runner's bundle with plain node instead of tsx, but only
// for a lab the build holds (same labs folder): anything else runs from source, as without a build.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** manifest.json of a build (written by build.mjs) */
interface Manifest {
  key: string;
  /** absolute path of the labs folder it was built from */
  labsDir: string;
  cli: string;
  runner: string;
  /** lab name -> its bundle, relative to the build folder */
  labs: Record<string, string>;
}

let read: { dir: string; manifest?: Manifest } | undefined;

function activeBuild(): { dir: string; manifest: Manifest } | undefined {
  const dir = process.env.TCP_LAB_BUILD;
  if (!dir) return undefined;
  if (read?.dir !== dir) {
    read = { dir };
    try {
      read.manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      // gone or never whole: run from source
    }
  }
  return read.manifest ? { dir, manifest: read.manifest } : undefined;
}

/** The bundle to import for the lab module at `modulePath` (a labs/<name>.ts), when the active build holds it. */
export function builtLab(modulePath: string): string | undefined {
  const b = activeBuild();
  const abs = path.resolve(modulePath);
  if (!b || !abs.endsWith('.ts') || path.dirname(abs) !== path.resolve(b.manifest.labsDir)) return undefined;
  const rel = Object.hasOwn(b.manifest.labs, path.basename(abs, '.ts')) ? b.manifest.labs[path.basename(abs, '.ts')] : undefined;
  return rel && existsSync(path.join(b.dir, rel)) ? path.join(b.dir, rel) : undefined;
}

/** The runner's bundle, for a runner that is to load the lab at `modulePath`: only when the build holds that lab too. */
export function builtRunner(modulePath: string): string | undefined {
  const b = activeBuild();
  if (!b || !builtLab(modulePath)) return undefined;
  const runner = path.join(b.dir, b.manifest.runner);
  return existsSync(runner) ? runner : undefined;
}
