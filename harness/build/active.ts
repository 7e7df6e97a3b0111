// Which prebuilt harness this process runs from, if any: scripts/lab.mjs names the build folder (made by
// build.mjs) in TCP_LAB_BUILD, for the CLI and every process it starts. The registry imports a lab's bundle
// instead of its .ts file, and the sandbox starts the runner's bundle with plain node instead of tsx, but only
// for a lab the build holds (same labs folder): anything else runs from source, as without a build.
// A process that runs from source (the tests) may still start its sandboxed runners from builds named in
// TCP_LAB_RUNNER_BUILDS: the runner is a process of its own, so no module is loaded twice in one process.
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

/** manifests read so far, by build folder (a folder's content never changes: its name is the hash of it) */
const manifests = new Map<string, Manifest>();

function buildAt(dir: string | undefined): { dir: string; manifest: Manifest } | undefined {
  if (!dir) return undefined;
  let manifest = manifests.get(dir);
  if (!manifest) {
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
      manifests.set(dir, manifest);
    } catch {
      return undefined; // gone or never whole: run from source
    }
  }
  return { dir, manifest };
}

/** The bundle to import for the lab module at `modulePath` (a labs/<name>.ts), when the build (default: the active one) holds it. */
export function builtLab(modulePath: string, dir = process.env.TCP_LAB_BUILD): string | undefined {
  const b = buildAt(dir);
  const abs = path.resolve(modulePath);
  if (!b || !abs.endsWith('.ts') || path.dirname(abs) !== path.resolve(b.manifest.labsDir)) return undefined;
  const rel = Object.hasOwn(b.manifest.labs, path.basename(abs, '.ts')) ? b.manifest.labs[path.basename(abs, '.ts')] : undefined;
  return rel && existsSync(path.join(b.dir, rel)) ? path.join(b.dir, rel) : undefined;
}

/** The runner's bundle, for a runner that is to load the lab at `modulePath`: only when the build holds that lab too. */
export function builtRunner(modulePath: string, dir = process.env.TCP_LAB_BUILD): string | undefined {
  const b = buildAt(dir);
  if (!b || !builtLab(modulePath, dir)) return undefined;
  const runner = path.join(b.dir, b.manifest.runner);
  return existsSync(runner) ? runner : undefined;
}

/**
 * How to start the runner for the lab at `modulePath` from a build: its script, and the build to hand it as its
 * TCP_LAB_BUILD. The active build if there is one; else, unless TCP_LAB_DEV=1, the first build in
 * TCP_LAB_RUNNER_BUILDS (folders separated like PATH) that holds the lab. Undefined: start it from source.
 */
export function runnerBuild(modulePath: string): { script: string; build: string } | undefined {
  const active = process.env.TCP_LAB_BUILD;
  const dirs = active ? [active] : process.env.TCP_LAB_DEV === '1' ? [] : (process.env.TCP_LAB_RUNNER_BUILDS ?? '').split(path.delimiter).filter(Boolean);
  for (const build of dirs) {
    const script = builtRunner(modulePath, build);
    if (script) return { script, build };
  }
  return undefined;
}

/** The CLI's bundle of the active build (the one this CLI runs from), or undefined when it runs from source. */
export function builtCli(dir = process.env.TCP_LAB_BUILD): string | undefined {
  const b = buildAt(dir);
  const cli = b && path.join(b.dir, b.manifest.cli);
  return cli && existsSync(cli) ? cli : undefined;
}
