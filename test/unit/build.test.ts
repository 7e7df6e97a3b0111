// The prebuilt harness (harness/build/): `npm run lab` runs the CLI, the sandboxed runner and the lab from one
// esbuild build made on first use and named by a hash of the sources, so an edit is in effect at the next run;
// a build that fails, or TCP_LAB_DEV=1, runs from source with tsx; concurrent first runs share one build.
// Every build here goes to a cache folder of the test's own, for labs in a folder of its own.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildKey, ensureBuild, readManifest } from '../../harness/build/build.mjs';
import { builtCli, builtLab, builtRunner } from '../../harness/build/active.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TMP = mkdtempSync(path.join(tmpdir(), 'tcplab-build-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

let n = 0;
/** a fresh labs folder and cache folder */
function workspace(): { labs: string; cache: string; results: string } {
  const base = path.join(TMP, String(++n));
  const ws = { labs: path.join(base, 'labs'), cache: path.join(base, 'cache'), results: path.join(base, 'results') };
  for (const d of Object.values(ws)) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(base, 'package.json'), '{ "type": "module" }\n'); // as labs/ has from the project's (for tsx)
  return ws;
}

/** A lab that records which runner runs it and a word, and makes a connection (so its capture has frames). */
function probe(word: string): string {
  return `import { connect, defineLab, listen, yes } from ${JSON.stringify(path.join(ROOT, 'harness/index.ts'))};
export default defineLab({
  title: 'probe ${word}',
  setup: 'test fixture',
  claims: { ran: ['none', 'the lab ran'] },
  async run(ctx) {
    ctx.event('runner', process.argv[1]);
    ctx.event('word', '${word}');
    const port = ctx.port();
    const l = await listen({ port });
    ctx.defer(() => l.close());
    (await connect(port)).destroy();
    return { ran: true };
  },
  judge: (ev) => ({ ran: yes('the lab ran', ev.ran) }),
});
`;
}

interface Run { code: number; stdout: string; stderr: string; result?: { events: { kind: string; detail: string }[]; captures?: { frames: number }[] } }

/** `npm run lab probe` (or node scripts/lab.mjs, a little faster) against a workspace; reads back the result. */
function lab(ws: ReturnType<typeof workspace>, args: string[], env: Record<string, string> = {}, viaNpm = false): Promise<Run> {
  const argv = viaNpm ? ['npm', 'run', '-s', 'lab', '--', ...args] : [process.execPath, 'scripts/lab.mjs', 'harness/cli/main.ts', ...args];
  rmSync(ws.results, { recursive: true, force: true });
  mkdirSync(ws.results);
  return new Promise((resolve) => {
    const full = { ...process.env, TCP_LAB_LABS_DIR: ws.labs, TCP_LAB_BUILD_CACHE: ws.cache, TCP_LAB_BUILD_LOG: '1', ...env };
    delete (full as Record<string, string | undefined>).TCP_LAB_BUILD;
    execFile(argv[0], [...argv.slice(1), '--results-dir', ws.results], { cwd: ROOT, env: full }, (err, stdout, stderr) => {
      const run: Run = { code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr };
      const [dir] = readdirSync(ws.results);
      const file = dir && path.join(ws.results, dir, args[0], 'result.json');
      if (file && existsSync(file)) run.result = JSON.parse(readFileSync(file, 'utf8'));
      resolve(run);
    });
  });
}

const detail = (r: Run, kind: string) => r.result?.events.find((e) => e.kind === kind)?.detail;
const builds = (cache: string) => readdirSync(cache).filter((f) => /^[0-9a-f]{24}$/.test(f));

/** A bundle and every file it imports statically (not through import()), transitively. */
function staticImports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [...seen];
  seen.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from "(\.[^"]+)"|^import "(\.[^"]+)"/gm)) staticImports(path.resolve(path.dirname(file), m[1] ?? m[2]), seen);
  return [...seen];
}

describe('the prebuilt harness', () => {
  it('npm run lab runs the CLI, the runner and the lab from one build, made on first use; capture works from it', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('one'));
    const first = await lab(ws, ['probe'], {}, true);
    expect(first.code, first.stderr).toBe(0);
    const key = /lab: build ([0-9a-f]{24}) made/.exec(first.stderr)?.[1];
    expect(key, first.stderr).toBeDefined();
    expect(builds(ws.cache)).toEqual([key]);
    expect(detail(first, 'runner')).toBe(path.join(ws.cache, key!, 'runner.mjs')); // plain node ran the bundle
    expect(detail(first, 'word')).toBe('one');
    expect(existsSync(path.join(ws.results, readdirSync(ws.results)[0], 'probe', 'capture-sandbox.pcap'))).toBe(true);
    expect(first.result?.captures?.[0].frames).toBeGreaterThan(0); // the capture worker was found beside its source
    const again = await lab(ws, ['probe']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`lab: build ${key} found`));
    // yargs' `assert` is the small stand-in (harness/build/assert-lite.mjs): nothing the CLI loads at start imports
    // node:assert (tar's minizlib keeps Node's, in a chunk only bundle and compare load)
    const atStart = staticImports(path.join(ws.cache, key!, 'cli.mjs'));
    expect(atStart.filter((f) => /from "(node:)?assert"|require\("(node:)?assert"\)/.test(readFileSync(f, 'utf8')))).toEqual([]);
    expect(atStart.some((f) => readFileSync(f, 'utf8').includes('assert-lite'))).toBe(true);
  }, 60_000);

  it('an edited lab is in effect at the next run (a new build), also when the edit keeps its size', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('one'));
    const first = await lab(ws, ['probe', '--no-capture']);
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('two'));
    const second = await lab(ws, ['probe', '--no-capture']);
    expect(second.code, second.stderr).toBe(0);
    expect(detail(first, 'word')).toBe('one');
    expect(detail(second, 'word')).toBe('two');
    expect(second.stdout).toMatch(/^probe: probe two$/m); // the CLI's own copy of the lab is the new one too
    expect(builds(ws.cache)).toHaveLength(2);
  }, 60_000);

  it('a remembered metadata stamp never hides an edit', async () => {
    const ws = workspace();
    const file = path.join(ws.labs, 'probe.ts');
    writeFileSync(file, probe('one'));
    const a = await ensureBuild({ labsDir: ws.labs, cacheDir: ws.cache, settleMs: 0 });
    const stamps = readdirSync(path.join(ws.cache, 'stamps'));
    expect(stamps).toHaveLength(1);
    expect(readFileSync(path.join(ws.cache, 'stamps', stamps[0]), 'utf8')).toBe(a.manifest.key);
    expect((await ensureBuild({ labsDir: ws.labs, cacheDir: ws.cache, settleMs: 0 })).built).toBe(false);
    writeFileSync(file, probe('owt')); // same size
    const b = await ensureBuild({ labsDir: ws.labs, cacheDir: ws.cache, settleMs: 0 });
    expect(b.built).toBe(true);
    expect(b.manifest.key).not.toBe(a.manifest.key);
    expect(readFileSync(path.join(b.dir, 'labs', 'probe.mjs'), 'utf8')).toMatch(/probe owt/);
    expect(b.manifest.key).toBe(buildKey(ws.labs));
  }, 60_000);

  it('sources esbuild cannot build: the run falls back to tsx, says so once per run, and the failure is remembered', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('one'));
    writeFileSync(path.join(ws.labs, 'broken.ts'), "export default { title: 'unterminated };\n");
    const r = await lab(ws, ['probe', '--no-capture']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^lab: note: running from the TypeScript sources with tsx \(the prebuild failed: .*broken\.ts:1:\d+: Unterminated string literal\)$/m);
    expect(r.stderr.match(/lab: note:/g)).toHaveLength(1);
    expect(detail(r, 'runner')).toBe(path.join(ROOT, 'harness/runs/runner.ts'));
    expect(builds(ws.cache)).toEqual([]);
    expect(readdirSync(ws.cache).filter((f) => f.endsWith('.failed'))).toHaveLength(1);
    expect(readdirSync(ws.cache).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  }, 60_000);

  it('a lab that imports a source outside harness/ and its own folder is refused (its edits would not be seen)', async () => {
    const ws = workspace();
    const helper = path.join(path.dirname(ws.labs), 'helper.ts');
    writeFileSync(helper, "export const word = 'far';\n");
    writeFileSync(path.join(ws.labs, 'probe.ts'), `import { word } from '../helper.ts';\n${probe('one').replace("'one'", 'word')}`);
    await expect(ensureBuild({ labsDir: ws.labs, cacheDir: ws.cache })).rejects.toThrow(`${helper} is imported but lies outside harness/ and ${ws.labs}`);
    await expect(ensureBuild({ labsDir: ws.labs, cacheDir: ws.cache })).rejects.toThrow(/outside harness/); // remembered
    expect(builds(ws.cache)).toEqual([]);
  }, 60_000);

  it('TCP_LAB_DEV=1 runs from source and makes no build', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('one'));
    const r = await lab(ws, ['probe', '--no-capture'], { TCP_LAB_DEV: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(detail(r, 'runner')).toBe(path.join(ROOT, 'harness/runs/runner.ts'));
    expect(readdirSync(ws.cache)).toEqual([]);
  }, 60_000);

  it('concurrent first builds, in processes and in one process, end with one whole build and no leftovers', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('one'));
    const script = `import(${JSON.stringify(path.join(ROOT, 'harness/build/build.mjs'))}).then((m) => m.ensureBuild(${JSON.stringify({ labsDir: ws.labs, cacheDir: ws.cache })})).then((b) => console.log(b.dir))`;
    const dirs = await Promise.all(
      [1, 2, 3].map(() => new Promise<string>((resolve, reject) => execFile(process.execPath, ['-e', script], (err, out) => (err ? reject(err) : resolve(out.trim()))))),
    );
    expect(new Set(dirs).size).toBe(1);
    expect(readManifest(dirs[0])?.labs).toEqual({ probe: 'labs/probe.mjs' });
    const fresh = workspace();
    writeFileSync(path.join(fresh.labs, 'probe.ts'), probe('one'));
    const both = await Promise.all([ensureBuild({ labsDir: fresh.labs, cacheDir: fresh.cache }), ensureBuild({ labsDir: fresh.labs, cacheDir: fresh.cache })]);
    expect(both.map((b) => b.built)).toEqual([true, false]);
    for (const c of [ws.cache, fresh.cache]) {
      expect(builds(c)).toHaveLength(1);
      expect(readdirSync(c).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    }
  }, 60_000);
});

describe('the active build (TCP_LAB_BUILD)', () => {
  afterEach(() => {
    delete process.env.TCP_LAB_BUILD;
  });

  it('maps only the labs of the folder it was built from, and nothing without it', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.labs, 'probe.ts'), probe('one'));
    const b = await ensureBuild({ labsDir: ws.labs, cacheDir: ws.cache });
    const module = path.join(ws.labs, 'probe.ts');
    expect(builtLab(module)).toBeUndefined();
    expect(builtRunner(module)).toBeUndefined();
    expect(builtCli()).toBeUndefined();
    process.env.TCP_LAB_BUILD = b.dir;
    expect(builtCli()).toBe(path.join(b.dir, 'cli.mjs')); // what a kernel run starts inside its guests
    expect(builtLab(module)).toBe(path.join(b.dir, 'labs/probe.mjs'));
    expect(builtRunner(module)).toBe(path.join(b.dir, 'runner.mjs'));
    expect(builtLab(path.join(ROOT, 'labs', 'probe.ts'))).toBeUndefined(); // another folder: from source
    expect(builtRunner(path.join(ROOT, 'labs', 'tw-recycle.ts'))).toBeUndefined();
    expect(builtLab(path.join(ws.labs, 'other.ts'))).toBeUndefined();
    process.env.TCP_LAB_BUILD = path.join(ws.cache, 'gone');
    expect(builtLab(module)).toBeUndefined();
    expect(builtCli()).toBeUndefined();
  }, 60_000);
});
