// @ts-check
// `npm run lab …` starts here: `node scripts/lab.mjs harness/cli/main.ts <args>` (the entry is named on the command
// line so ps shows which program runs). It runs the CLI from the prebuilt harness (harness/build/build.mjs: built
// on first use, by content hash, so an edit is always in effect), in this same process: npm's signals and
// PR_SET_PDEATHSIG reach the CLI as before. The CLI's child processes learn the build from TCP_LAB_BUILD.
// TCP_LAB_DEV=1, or a build that fails, runs the TypeScript sources with tsx instead (slower to start).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuild, ROOT } from '../harness/build/build.mjs';

const ENTRY = path.join(ROOT, 'harness', 'cli', 'main.ts');

const named = process.argv[2];
if (!named || path.resolve(ROOT, named) !== ENTRY) {
  process.stderr.write(`lab: scripts/lab.mjs runs harness/cli/main.ts only (given: ${named ?? 'nothing'})\n`);
  process.exit(2);
}
process.argv.splice(2, 1); // the CLI reads its own arguments from argv[2] on

async function fromBuild() {
  const build = await ensureBuild({ labsDir: process.env.TCP_LAB_LABS_DIR || undefined });
  process.env.TCP_LAB_BUILD = build.dir;
  if (process.env.TCP_LAB_BUILD_LOG) process.stderr.write(`lab: build ${build.manifest.key} ${build.built ? 'made' : 'found'} in ${build.ms.toFixed(0)} ms\n`);
  return path.join(build.dir, build.manifest.cli);
}

let cli;
if (process.env.TCP_LAB_DEV !== '1') {
  try {
    cli = await fromBuild();
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    process.stderr.write(`lab: note: running from the TypeScript sources with tsx (the prebuild failed: ${why})\n`);
  }
}
if (cli) {
  await import(pathToFileURL(cli).href);
} else {
  delete process.env.TCP_LAB_BUILD; // nothing this CLI starts may use a build either
  // what `node --import tsx` does: TypeScript for every module imported or required from here on
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
  await import(pathToFileURL(ENTRY).href);
}
