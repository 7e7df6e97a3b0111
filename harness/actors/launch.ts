// How an actor process is started. Preferred: the entry script bundled by esbuild (already installed as tsx's
// own dependency) into one .mjs that plain node runs in ~80 ms, instead of ~400 ms with the tsx loader, which
// matters when a lab starts several actors. The bundle is rebuilt in memory for every run (tens of ms) and
// written under node_modules/.cache by content hash, so it can never be stale. Fallback: node --import tsx.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ACTOR_MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

export interface ActorLaunch {
  /** arguments for process.execPath */
  args: string[];
  how: 'bundle' | 'tsx';
  /** why the bundle was not used, when it was not */
  note?: string;
}

let launch: Promise<ActorLaunch> | undefined;

async function bundle(): Promise<string> {
  const esbuild = await import('esbuild');
  // esbuild's JS API runs a helper process; stop it at once so nothing of ours outlives the build
  const out = await esbuild
    .build({ entryPoints: [ACTOR_MAIN], bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['koffi'], write: false, logLevel: 'silent' })
    .finally(() => esbuild.stop());
  const code = out.outputFiles[0].contents;
  const dir = path.join(ROOT, 'node_modules', '.cache', 'tcp-lab');
  const file = path.join(dir, `actor-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file); // atomic: labs running in parallel may race to write the same bundle
  }
  return file;
}

/** The node arguments that start an actor (bundle if possible, tsx otherwise); decided once per process. */
export function actorLaunch(): Promise<ActorLaunch> {
  launch ??= bundle().then(
    (file): ActorLaunch => ({ args: [file], how: 'bundle' }),
    (err: unknown): ActorLaunch => ({ args: ['--import', TSX_LOADER, ACTOR_MAIN], how: 'tsx', note: err instanceof Error ? err.message.split('\n')[0] : String(err) }),
  );
  return launch;
}
