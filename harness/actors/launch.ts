// How a process of ours (an actor, a helper script such as labs/support/*.ts) is started. Preferred: its entry
// script bundled by esbuild (already installed as tsx's own dependency) into one .mjs that plain node runs in
// ~80 ms, instead of ~400 ms with the tsx loader (~10x that in an emulated guest), which matters when a lab
// starts several. A bundle is rebuilt in memory once per process and entry (tens of ms) and written under
// node_modules/.cache by content hash, so it can never be stale. Fallback: node --import tsx <entry>.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ACTOR_MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

export interface ActorLaunch {
  /** arguments for process.execPath (the script's own arguments follow them) */
  args: string[];
  how: 'bundle' | 'tsx';
  /** why the bundle was not used, when it was not */
  note?: string;
}

/** one decision per entry script and process */
const launches = new Map<string, Promise<ActorLaunch>>();
/** esbuild's service is shared within a process, and one build's stop() would end another's: one at a time */
let building: Promise<unknown> = Promise.resolve();

async function bundle(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  // esbuild's JS API runs a helper process; stop it at once so nothing of ours outlives the build
  const out = await esbuild
    .build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['koffi'], write: false, logLevel: 'silent' })
    .finally(() => esbuild.stop());
  const code = out.outputFiles[0].contents;
  const dir = path.join(ROOT, 'node_modules', '.cache', 'tcp-lab');
  const name = path.basename(entry).replace(/\.[cm]?[jt]s$/, '');
  const file = path.join(dir, `${entry === ACTOR_MAIN ? 'actor' : name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file); // atomic: labs running in parallel may race to write the same bundle
  }
  return file;
}

/** The node arguments that start the TypeScript entry script `entry` (bundle if possible, tsx otherwise). */
export function scriptLaunch(entry: string): Promise<ActorLaunch> {
  let launch = launches.get(entry);
  if (!launch) {
    const made = building.catch(() => {}).then(() => bundle(entry));
    building = made;
    launch = made.then(
      (file): ActorLaunch => ({ args: [file], how: 'bundle' }),
      (err: unknown): ActorLaunch => ({ args: ['--import', TSX_LOADER, entry], how: 'tsx', note: err instanceof Error ? err.message.split('\n')[0] : String(err) }),
    );
    launches.set(entry, launch);
  }
  return launch;
}

/** The node arguments that start an actor (harness/actors/main.ts). */
export function actorLaunch(): Promise<ActorLaunch> {
  return scriptLaunch(ACTOR_MAIN);
}
