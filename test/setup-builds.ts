// Vitest globalSetup: the prebuilt harness (harness/build/) for the processes the tests start. The test processes
// themselves run the TypeScript sources (one copy of every harness module, so `instanceof UserError` holds), but a
// sandboxed runner or a CLI the tests spawn is a process of its own: started from a build it is ready in ~0.3 s
// instead of ~1.5 s through tsx. One build of labs/ and one of the fixture labs, found in the cache by content
// hash or made now, once per test run; a build that fails leaves those processes on tsx (with a note).
// The probes the tests start in a sandbox of their own are bundled here too, into a folder removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { DEFAULT_LABS_DIR, ensureBuild } from '../harness/build/build.mjs';
import { bundleScripts } from '../harness/build/bundle.mjs';

export const FIXTURE_LABS = fileURLToPath(new URL('./fixtures/labs/', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** build folders (absolute) of labs/ and of test/fixtures/labs/; absent: that build failed, run from source */
    tcpLabBuilds: { labs?: string; fixtures?: string };
    /** source file (absolute) -> its bundle, for the probes in PROBES; empty: bundling failed, they run through tsx */
    tcpLabProbes: Record<string, string>;
  }
}

/** The scripts the tests run as processes of their own, bundled so plain node starts them (~0.3 CPU-s, not ~0.9 through tsx). */
const PROBES = ['unit/probes/read-filter.ts', 'unit/probes/next-connection.ts', 'unit/probes/churn.ts', 'unit/probes/guest-hold.ts', 'fixtures/host-harness.ts'].map((f) => fileURLToPath(new URL(f, import.meta.url)));

async function buildOf(labsDir: string): Promise<string | undefined> {
  try {
    return (await ensureBuild({ labsDir })).dir;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`tests: note: no harness build of ${path.relative(process.cwd(), labsDir)} (${why}); its runners and CLIs start through tsx\n`);
    return undefined;
  }
}

async function probes(dir: string): Promise<Record<string, string>> {
  const entries = Object.fromEntries(PROBES.map((f) => [path.basename(f, '.ts'), f]));
  try {
    await bundleScripts(entries, dir);
    return Object.fromEntries(PROBES.map((f) => [f, path.join(dir, `${path.basename(f, '.ts')}.mjs`)]));
  } catch (err) {
    process.stderr.write(`tests: note: the probes could not be bundled (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); they start through tsx\n`);
    return {};
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const labs = await buildOf(DEFAULT_LABS_DIR);
  const fixtures = await buildOf(FIXTURE_LABS);
  project.provide('tcpLabBuilds', { ...(labs ? { labs } : {}), ...(fixtures ? { fixtures } : {}) });
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-probes-'));
  project.provide('tcpLabProbes', await probes(dir));
  return () => rmSync(dir, { recursive: true, force: true });
}
