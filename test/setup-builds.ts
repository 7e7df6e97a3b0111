// Vitest globalSetup: the prebuilt harness (harness/build/) for the processes the tests start. The test processes
// themselves run the TypeScript sources (one copy of every harness module, so `instanceof UserError` holds), but a
// sandboxed runner or a CLI the tests spawn is a process of its own: started from a build it is ready in ~0.3 s
// instead of ~1.5 s through tsx. One build of labs/ and one of the fixture labs, found in the cache by content
// hash or made now, once per test run; a build that fails leaves those processes on tsx (with a note).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { DEFAULT_LABS_DIR, ensureBuild } from '../harness/build/build.mjs';

export const FIXTURE_LABS = fileURLToPath(new URL('./fixtures/labs/', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** build folders (absolute) of labs/ and of test/fixtures/labs/; absent: that build failed, run from source */
    tcpLabBuilds: { labs?: string; fixtures?: string };
  }
}

async function buildOf(labsDir: string): Promise<string | undefined> {
  try {
    return (await ensureBuild({ labsDir })).dir;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`tests: note: no harness build of ${path.relative(process.cwd(), labsDir)} (${why}); its runners and CLIs start through tsx\n`);
    return undefined;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const labs = await buildOf(DEFAULT_LABS_DIR);
  const fixtures = await buildOf(FIXTURE_LABS);
  project.provide('tcpLabBuilds', { ...(labs ? { labs } : {}), ...(fixtures ? { fixtures } : {}) });
}
