// Run management on recorded runs (test/fixtures/runs: two real runs of time-wait-restart with different
// options, snapshots/ left out): listing, bundles, comparison, run id resolution, the run index, machine facts.
import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, release, tmpdir } from 'node:os';
import path from 'node:path';
import { list } from 'tar';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UserError } from '../../harness/errors.ts';
import { renderRunIndex, verdictCounts } from '../../harness/report/run-index.ts';
import { bundleRun, openRun, unpackBundle } from '../../harness/results/bundle.ts';
import { compareRuns, formatComparison } from '../../harness/results/compare.ts';
import { freshNamespaceSysctls, machineFacts } from '../../harness/results/machine.ts';
import { listRuns, loadRun, resolveRun, writeRunIndex } from '../../harness/results/runs.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/runs');
const OLD = '20261201-075733-de5b'; // all combinations: 1 confirmed, 2 refuted
const NEW = '20261201-075737-6c1c'; // only reuseport/both: 1 refuted, 2 inconclusive

function tmp(prefix = 'tcplab-runs-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A writable copy of the fixture runs. */
function results(): string {
  const dir = tmp();
  cpSync(FIXTURES, dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (v: Record<string, any>) => void): void {
  const v = JSON.parse(readFileSync(file, 'utf8'));
  edit(v);
  writeFileSync(file, JSON.stringify(v, null, 2) + '\n');
}

async function userError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  return expect(err).toBeInstanceOf(UserError), (err as Error).message;
}

describe('listing runs', () => {
  it('lists newest first with status, kernel and verdict counts', async () => {
    const runs = await listRuns(FIXTURES);
    expect(runs.map((r) => r.id)).toEqual([NEW, OLD]);
    expect(runs.map((r) => r.status)).toEqual(['finished', 'finished']);
    expect(runs[0].kernel).toMatch(/^Linux \S+ \S+$/);
    expect(runs.map((r) => verdictCounts(r.labs.flatMap((l) => l.result!.claims)))).toEqual(['1 refuted, 2 inconclusive', '1 confirmed, 2 refuted']);
  });

  it('a folder without run.json still lists, from its lab folders; an abandoned run is told apart; files are not runs', async () => {
    const root = results();
    const older = '20261101-000000-0000';
    cpSync(path.join(root, OLD), path.join(root, older), { recursive: true });
    rmSync(path.join(root, older, 'run.json'));
    const dead = execa('true'); // a pid that is gone once it has exited
    await dead;
    editJson(path.join(root, NEW, 'run.json'), (m) => Object.assign(m, { status: 'running', pid: dead.pid, endedAt: undefined }));
    writeFileSync(path.join(root, 'stray.tar.gz'), 'not a run');
    const runs = await listRuns(root);
    expect(runs.map((r) => [r.id, r.status])).toEqual([[NEW, 'abandoned'], [OLD, 'finished'], [older, 'unknown']]);
    expect(runs[2].kernel).toBe(runs[1].kernel); // from result.json
    expect(runs[2].labs.map((l) => l.result?.outcome)).toEqual(['ran']);
  });

  it('a missing results folder is an empty list; a file in its place is a user error', async () => {
    expect(await listRuns(path.join(tmp(), 'nothing-here'))).toEqual([]);
    const file = path.join(tmp(), 'file');
    writeFileSync(file, '');
    expect(await userError(listRuns(file))).toMatch(/cannot read the results folder .* \(ENOTDIR\)/);
  });
});

describe('run ids', () => {
  it('resolves an id, a unique prefix, and the latest run', async () => {
    expect(await resolveRun(FIXTURES, OLD)).toBe(path.join(FIXTURES, OLD));
    expect(await resolveRun(FIXTURES, '20261201-075733')).toBe(path.join(FIXTURES, OLD));
    expect(await resolveRun(FIXTURES)).toBe(path.join(FIXTURES, NEW));
  });

  it('ambiguous prefixes and unknown ids are one-line user errors naming the candidates', async () => {
    expect(await userError(resolveRun(FIXTURES, '20261201-0757'))).toMatch(/run id '20261201-0757' is ambiguous: it starts 2 runs \(20261201-075737-6c1c, 20261201-075733-de5b\)/);
    expect(await userError(resolveRun(FIXTURES, '20261201-075733-dexx'))).toMatch(/unknown run '20261201-075733-dexx' under .*; did you mean 20261201-075733-de5b/);
    expect(await userError(resolveRun(FIXTURES, 'zzz'))).toMatch(/unknown run 'zzz'.*the latest runs are 20261201-075737-6c1c, 20261201-075733-de5b/);
    expect(await userError(resolveRun(tmp()))).toMatch(/no runs under .* yet: run a lab first/);
  });
});

describe('bundles', () => {
  it('round trip: packs every file of the run (whatever the labs wrote), unpacks equal', async () => {
    const root = results();
    writeFileSync(path.join(root, OLD, 'time-wait-restart', 'capture-sandbox.pcap'), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 0, 1, 2, 3]));
    const out = path.join(tmp(), `${OLD}.tar.gz`);
    const { file, bytes } = await bundleRun(path.join(root, OLD), out);
    expect([file, bytes > 1000]).toEqual([out, true]);
    const names: string[] = [];
    await list({ file, onReadEntry: (e) => void names.push(e.path) });
    expect(names.every((n) => n.startsWith(`${OLD}/`))).toBe(true);
    expect(names).toEqual(expect.arrayContaining([`${OLD}/run.json`, `${OLD}/README.md`, `${OLD}/time-wait-restart/result.json`, `${OLD}/time-wait-restart/capture-sandbox.pcap`]));
    const unpacked = await unpackBundle(file, tmp());
    expect(path.basename(unpacked)).toBe(OLD);
    for (const f of ['run.json', 'time-wait-restart/result.json', 'time-wait-restart/capture-sandbox.pcap']) {
      expect(readFileSync(path.join(unpacked, f))).toEqual(readFileSync(path.join(root, OLD, f)));
    }
    const c = compareRuns(await loadRun(path.join(root, OLD)), await loadRun(unpacked, { live: false }));
    expect(c.differences).toBe(0);
    expect(formatComparison(c)).toMatch(/\nno differences\n$/);
    expect(await userError(bundleRun(path.join(root, OLD), out))).toMatch(/already exists/); // never overwrites
  });

  it('a file that is not a bundle is a user error', async () => {
    const bad = path.join(tmp(), 'bad.tar.gz');
    writeFileSync(bad, 'hello');
    expect(await userError(openRun(bad, FIXTURES))).toMatch(/cannot read the bundle .*bad\.tar\.gz/);
  });
});

describe('compare', () => {
  it('two runs that differ: verdicts side by side, options and measured figures that differ', async () => {
    const c = compareRuns(await loadRun(path.join(FIXTURES, OLD)), await loadRun(path.join(FIXTURES, NEW)));
    const [lab] = c.labs;
    expect(lab.lab).toBe('time-wait-restart');
    expect(lab.claims).toContainEqual({ claim: 'restart-needs-reuseaddr', a: 'confirmed', b: 'inconclusive', differs: true });
    expect(lab.claims).toContainEqual({ claim: 'reuseport-not-over-time-wait', a: 'refuted', b: 'refuted', differs: false });
    expect(lab.options.map((o) => o.name)).toEqual(['new', 'old']);
    expect(lab.figures).toContainEqual({ claim: 'restart-needs-reuseaddr', what: 'restart none -> none over TIME-WAIT', a: 'bind EADDRINUSE', b: 'not observed' });
    expect([c.kernelDiffers, c.differences]).toEqual([false, lab.differences]);
    const text = formatComparison(c);
    expect(text).toMatch(/restart-needs-reuseaddr\s+confirmed\s+inconclusive\s+≠/);
    expect(text).toMatch(/--old\s+none,reuseaddr,reuseport,both\s+reuseport,both/);
    expect(text).toMatch(/\n\d+ differences\n$/);
  });

  it('kernels, kernel defaults and a lab on one side only are listed', async () => {
    const root = results();
    editJson(path.join(root, NEW, 'run.json'), (m) => {
      m.machine.kernel = 'Linux 6.1.0-99-amd64 x86_64';
      m.machine.sysctls['net.ipv4.tcp_fin_timeout'] = '30';
    });
    cpSync(path.join(root, NEW, 'time-wait-restart'), path.join(root, NEW, 'copy-lab'), { recursive: true });
    const c = compareRuns(await loadRun(path.join(root, OLD)), await loadRun(path.join(root, NEW)));
    expect(c.kernelDiffers).toBe(true);
    expect(c.sysctls).toEqual([{ name: 'net.ipv4.tcp_fin_timeout', a: '60', b: '30' }]);
    expect(c.labs.map((l) => [l.lab, l.a, l.b])).toEqual([['copy-lab', undefined, 'ran'], ['time-wait-restart', 'ran', 'ran']]);
    const text = formatComparison(c);
    expect(text).toMatch(/kernel differs: A Linux \S+ x86_64, B Linux 6\.1\.0-99-amd64 x86_64/);
    expect(text).toMatch(/net\.ipv4\.tcp_fin_timeout\s+60\s+30/);
    expect(text).toMatch(/copy-lab \(only in B\): outcome A —, B ran/);
  });

  it('a bundle against a folder and an id prefix; the unpacked copy is removed on close', async () => {
    const root = results();
    const { file } = await bundleRun(path.join(root, OLD), path.join(tmp(), 'old.tar.gz'));
    const a = await openRun(file, root);
    const b = await openRun(path.join(root, OLD), root);
    const n = await openRun('20261201-075737', root);
    const bundleDir = a.run.dir;
    expect(a.label).toBe(`${OLD} (bundle old.tar.gz)`);
    expect(compareRuns(a.run, b.run).differences).toBe(0);
    expect(compareRuns(a.run, n.run).differences).toBeGreaterThan(0);
    for (const o of [a, b, n]) await o.close();
    expect(existsSync(bundleDir)).toBe(false);
    expect(await userError(openRun('./no/such/run', root))).toMatch(/is not a run folder/);
  });
});

describe('run index (README.md)', () => {
  it('names the run, its machine, each lab with its writeup and each claim with its verdict', async () => {
    const run = await loadRun(path.join(FIXTURES, OLD));
    const md = renderRunIndex(run);
    expect(md).toMatch(new RegExp(`^# Run ${OLD}\n`));
    expect(md).toMatch(/- status: \*\*finished\*\*/);
    expect(md).toMatch(/\| kernel \| Linux \S+ \S+ \|/);
    expect(md).toMatch(/\| net\.ipv4\.tcp_fin_timeout \| \d+ \|/);
    expect(md).toMatch(/\| time-wait-restart \| Restart a listener over TIME-WAIT.* \| ran \| 1 confirmed, 2 refuted \| \[writeup\.md\]\(time-wait-restart\/writeup\.md\) \|/);
    for (const c of run.labs[0].result!.claims) expect(md).toContain(`| time-wait-restart | ${c.id} | ${c.source.split('_')[0]} | **${c.verdict}** |`);
    expect(md).toBe(readFileSync(path.join(FIXTURES, OLD, 'README.md'), 'utf8')); // deterministic: as written at the end of the run
  });

  it('writeRunIndex rewrites it from disk; a run without machine facts or results says so', async () => {
    const root = results();
    const dir = path.join(root, NEW);
    rmSync(path.join(dir, 'README.md'));
    editJson(path.join(dir, 'run.json'), (m) => Object.assign(m, { machine: undefined, labs: ['time-wait-restart', 'never-ran'] }));
    await writeRunIndex(dir);
    const md = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(md).toMatch(/records no machine facts.*the lab results give the kernel: Linux/);
    expect(md).toMatch(/Problems:\n\n- never-ran: no result written/);
    expect(md).toMatch(/\| never-ran \| — \| no result written \|/);
  });
});

describe('machine facts', () => {
  it('kernel, tools and fresh-namespace defaults, quickly, and no hostname', async () => {
    await machineFacts(); // warm up (module loading)
    const t = performance.now();
    const m = await machineFacts();
    expect(performance.now() - t).toBeLessThan(1000); // about 30 ms here; generous for a loaded machine
    expect([m.kernel.includes(release()), m.node, m.cpus.count > 0]).toEqual([true, process.version, true]);
    expect(m.iproute2).toMatch(/iproute2/);
    expect(m.sysctls?.['net.ipv4.tcp_fin_timeout']).toMatch(/^\d+$/);
    expect(m.sysctls?.['net.ipv4.ip_local_port_range']).toMatch(/^\d+ \d+$/);
    expect(JSON.stringify(m)).not.toContain(hostname());
  });

  it('a sysctl this kernel lacks is simply absent', async () => {
    expect(await freshNamespaceSysctls(['net.ipv4.tcp_tw_recycle_not_here', 'net.ipv4.tcp_syn_retries'])).toEqual({ 'net.ipv4.tcp_syn_retries': expect.stringMatching(/^\d+$/) });
  });
});

describe('CLI: results, bundle, compare', () => {
  // `npm run -s lab results -- ...` as the README types it (npmLab, once); the other calls through scripts/lab.mjs,
  // which is what npm runs (npm costs ~0.4 CPU-s a start), without the first `--`, which npm would take
  const npmLab = (args: string[]) => execa('npm', ['run', '-s', 'lab', ...args], { cwd: ROOT, reject: false });
  const lab = (args: string[]) => execa(process.execPath, ['scripts/lab.mjs', 'harness/cli/main.ts', ...args.filter((a, i) => i !== args.indexOf('--'))], { cwd: ROOT, reject: false });

  it('results lists the runs newest first and exits 0; an empty folder gets a friendly line', async () => {
    const root = results();
    const r = await npmLab(['results', '--', '--results-dir', root]);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^2 runs under .*, newest first:$/);
    expect(lines[1]).toMatch(/RUN\s+STARTED\s+KERNEL\s+STATUS\s+LABS\s+VERDICTS\s+PROBLEMS/);
    expect(lines[2]).toMatch(new RegExp(`^  ${NEW}\\s+2026-12-01 07:57 UTC\\s+\\S+\\s+finished\\s+time-wait-restart\\s+1 refuted, 2 inconclusive\\s+—$`));
    expect(lines[3]).toMatch(new RegExp(`^  ${OLD}\\s.*1 confirmed, 2 refuted`));
    const json = await lab(['results', '--', '--results-dir', root, '--json']);
    expect(JSON.parse(json.stdout).map((r: { id: string; verdicts: object }) => [r.id, r.verdicts])).toEqual([
      [NEW, { confirmed: 0, refuted: 1, partly: 0, inconclusive: 2 }],
      [OLD, { confirmed: 1, refuted: 2, partly: 0, inconclusive: 0 }],
    ]);
    const empty = await lab(['results', '--', '--results-dir', path.join(root, 'none')]);
    expect(empty.exitCode).toBe(0);
    expect(empty.stdout).toMatch(/^no runs under .* yet: run a lab with 'npm run lab <lab>'/);
  });

  it('bundle writes <run-id>.tar.gz beside the runs; compare takes it; bad input is exit 2 with one line', async () => {
    const root = results();
    const b = await lab(['bundle', '--', '20261201-075733', '--results-dir', root]);
    expect(b.stdout).toMatch(new RegExp(`${OLD}\\.tar\\.gz  \\(\\d+\\.\\d KiB; run ${OLD}\\)`));
    expect(readdirSync(root)).toContain(`${OLD}.tar.gz`);
    const c = await lab(['compare', '--', path.join(root, `${OLD}.tar.gz`), OLD, '--results-dir', root]);
    expect(c.exitCode).toBe(0);
    expect(c.stdout).toMatch(/no differences\n?$/);
    const bad = await lab(['compare', '--', 'nope', OLD, '--results-dir', root]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^lab: unknown run 'nope'/)]);
  });
});
