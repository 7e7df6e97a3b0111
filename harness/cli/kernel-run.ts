// `npm run lab <lab...> -- --kernel 6.1 --kernel host`: the same labs on other kernels. Each kernel gets one run
// of the ordinary CLI (inside a QEMU guest booted from that kernel, or on this machine for `host`), writing into
// a scratch folder; its lab folders then join this run's folder as <lab>@<release>, each result.json saying which
// kernel ran it and how (ranOn). The run ends with the verdicts by kernel.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { release } from 'node:os';
import type { LabResult } from '../evidence/records.ts';
import type { LabEntry } from '../runs/registry.ts';
import { builtCli } from '../build/active.ts';
import { loadScale } from '../kernel/pace.ts';
import { stopController } from '../kernel/wait.ts';
import { runInGuest, type GuestOutcome } from '../guest/boot.ts';
import { findKernel, type KernelEntry } from '../guest/kernels.ts';
import { toJunit, toTap, type Reporter } from '../report/ci.ts';
import { writeReportHtml } from '../report/html.ts';
import { formatMatrix, kernelMatrix } from '../report/kernel-matrix.ts';
import { machineFacts } from '../results/machine.ts';
import { loadRun, writeRunIndex } from '../results/runs.ts';
import { writeMarker, type RunMarker } from '../results/store.ts';
import { exitCodeOf, handleStopSignals, type StopSignal } from './signals.ts';
import { writeFile } from 'node:fs/promises';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAB_SCRIPT = path.join(ROOT, 'scripts', 'lab.mjs');
const CLI_ENTRY = path.join(ROOT, 'harness', 'cli', 'main.ts');
/** How much slower a lab may be in an emulated guest than its hint says (TCG measured 5-20x; nft- and ss-heavy labs up to ~100x under load). */
const GUEST_SLOWDOWN = 40;
/** ...and at least this long per lab, however short its hint. */
const GUEST_LAB_MIN_MS = 90_000;
const BOOT_ALLOWANCE_MS = 180_000;

export type KernelTarget = { spec: 'host'; release: string } | { spec: string; release: string; kernel: KernelEntry };

/** Resolve each --kernel value ('host', '6.1', an exact release) once; an unknown one is a UserError from findKernel. */
export async function resolveKernels(specs: readonly string[]): Promise<KernelTarget[]> {
  const out: KernelTarget[] = [];
  for (const spec of specs) {
    const t: KernelTarget = spec === 'host' ? { spec, release: release() } : await findKernel(spec).then((k) => ({ spec, release: k.release, kernel: k }));
    if (!out.some((o) => o.release === t.release && ('kernel' in o) === ('kernel' in t))) out.push(t);
  }
  return out;
}

export interface KernelRunRequest {
  entries: LabEntry[];
  /** what the inner CLI is given: lab names, lab options, --no-capture, --jobs, --repeat (never --results-dir) */
  inner: string[];
  targets: KernelTarget[];
  accel: 'auto' | 'kvm' | 'tcg';
  /** a limit per kernel; default from the labs' own time hints */
  timeoutMs?: number;
  /** each guest's virtual CPUs */
  cpus: number;
  /** how many labs a guest runs at once (--jobs, else its CPU count); its deadline counts on no more than its CPUs of them */
  guestJobs: number;
  repeat: number;
  runDir: string;
  args: string[];
  json: boolean;
  reporter?: Reporter;
  reporterOut?: string;
}

/** The folder name of a lab run on a kernel: time-wait-restart@6.1.0-57-amd64 (repeats keep their .N). */
export function kernelFolder(labFolder: string, rel: string): string {
  return `${labFolder}@${rel.replace(/[^\w.+-]/g, '_')}`;
}

/** One kernel's run of the inner CLI; resolves with its exit code (null: it never finished) and a note. */
async function runOn(t: KernelTarget, req: KernelRunRequest, share: string, signal: AbortSignal, say: (line: string) => void): Promise<{ code: number | null; note?: string; guest?: GuestOutcome }> {
  // a CLI that runs from a build starts the inner one from the same build: scripts/lab.mjs would only hash the
  // same sources again to find it (~2.5 s in an emulated guest, where it is most of the CLI's start)
  const cli = builtCli();
  const command = [process.execPath, ...(cli ? [cli] : [LAB_SCRIPT, CLI_ENTRY]), ...req.inner, '--results-dir', share];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TCP_LAB_') && k !== 'TCP_LAB_RAN_ON')) as Record<string, string>;
  if ('kernel' in t) {
    const hint = req.entries.reduce((s, e) => s + Math.max(GUEST_LAB_MIN_MS, GUEST_SLOWDOWN * e.def.seconds * 1000), 0) * req.repeat / Math.max(1, Math.min(req.guestJobs, req.cpus, req.entries.length));
    const deadlineMs = req.timeoutMs ?? BOOT_ALLOWANCE_MS + hint;
    // the guest's deadlines also stretch with how busy this machine is now (its vCPUs share these cores)
    const g = await runInGuest({ kernel: t.kernel, command, cwd: ROOT, share, accel: req.accel, cpus: req.cpus, deadlineMs, signal, env: { ...env, TCP_LAB_HOST_LOAD: loadScale().toFixed(2) }, onLine: say });
    const note = g.stopAsked && g.exitCode !== null
      ? 'stopped on request: the CLI in the guest stopped its labs (SIGTERM) and wrote their results'
      : g.timedOut
      ? `the guest did not finish within ${Math.round(deadlineMs / 1000)} s and was stopped (--guest-timeout sets the limit)`
      : g.aborted
        ? 'stopped: the guest was shut down, so the lab that was running there wrote no result'
        : g.exitCode === null
          ? `the guest stopped before the labs finished; its last lines: ${g.tail.slice(-3).join(' | ')}`
          : undefined;
    return { code: g.exitCode, guest: g, ...(note ? { note } : {}) };
  }
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TCP_LAB_RAN_ON: 'host' } });
    const lines = (chunk: Buffer, rest: { s: string }) => {
      rest.s += chunk.toString('utf8');
      const parts = rest.s.split('\n');
      rest.s = parts.pop()!;
      for (const l of parts) say(l);
    };
    const out = { s: '' };
    const err = { s: '' };
    child.stdout.on('data', (c: Buffer) => lines(c, out));
    child.stderr.on('data', (c: Buffer) => lines(c, err));
    const stop = () => child.kill('SIGINT'); // the inner CLI stops its lab and still writes the result
    signal.addEventListener('abort', stop, { once: true });
    child.on('close', (code) => {
      signal.removeEventListener('abort', stop);
      for (const r of [out, err]) if (r.s) say(r.s);
      resolve({ code });
    });
  });
}

/** Move the lab folders the inner run wrote into the run folder, named per kernel; returns the folder names. */
async function collect(share: string, runDir: string, rel: string): Promise<string[]> {
  const inner = (await readdir(share, { withFileTypes: true })).filter((e) => e.isDirectory());
  const moved: string[] = [];
  for (const run of inner) {
    const loaded = await loadRun(path.join(share, run.name), { live: false });
    for (const lab of loaded.labs) {
      if (!lab.result) continue;
      const name = kernelFolder(lab.name, rel);
      await rename(lab.dir, path.join(runDir, name));
      moved.push(name);
    }
  }
  return moved;
}

/** Is a process with this pid still there? */
function alive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Scratch folders left by a kernel run whose CLI was SIGKILLed (nothing could remove them then): remove them now. */
export async function sweepScratch(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const run of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!run.isDirectory()) continue;
    const dir = path.join(root, run.name);
    const scratch = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('.kernel-'));
    if (!scratch.length) continue;
    const marker = await readFile(path.join(dir, 'run.json'), 'utf8').then((t) => JSON.parse(t) as { pid?: unknown }, () => ({ pid: undefined }));
    if (alive(marker.pid)) continue;
    for (const f of scratch) {
      await rm(path.join(dir, f), { recursive: true, force: true });
      removed.push(path.join(dir, f));
    }
  }
  return removed;
}

/** Run the labs on each kernel in turn; returns the exit code (the worst outcome wins, as for one lab). */
export async function kernelRunCommand(req: KernelRunRequest): Promise<number> {
  await sweepScratch(path.dirname(req.runDir));
  const toStdout = !req.json && !(req.reporter && !req.reporterOut);
  const print = (t: string) => void (toStdout ? process.stdout : process.stderr).write(t);
  const ac = stopController();
  let stoppedBy: StopSignal | undefined;
  const marker: RunMarker = { status: 'running', pid: process.pid, labs: [], args: req.args, startedAt: new Date().toISOString(), machine: await machineFacts(), kernels: [] };
  handleStopSignals(
    (sig) => {
      stoppedBy = sig;
      print(`\n${sig}: stopping (the running labs stop and keep their results; a guest that has not ended within 60 s is shut down); Ctrl-C again to quit at once\n`);
      ac.abort(sig);
    },
    (sig) => {
      writeMarker(req.runDir, { ...marker, status: 'interrupted', signal: stoppedBy ?? sig, endedAt: new Date().toISOString(), note: 'quit at once on a second signal' });
      process.exit(exitCodeOf(stoppedBy ?? sig));
    },
  );
  writeMarker(req.runDir, marker);
  const codes: number[] = [];
  for (const t of req.targets) {
    if (ac.signal.aborted) break;
    const label = 'kernel' in t ? t.release : `${t.release}, host`;
    print(`== ${label}: ${'kernel' in t ? `booting a guest with ${req.cpus} vCPU${req.cpus === 1 ? '' : 's'} (${req.accel === 'tcg' ? 'emulated' : 'KVM if it works, else emulated'}; expect it to be 5-20x slower than the host)` : 'on this machine'}\n`);
    const share = await mkdtemp(path.join(req.runDir, '.kernel-'));
    try {
      // the inner run's own "results:"/"report:" lines name the scratch folder, which is gone once its labs move here
      const r = await runOn(t, req, share, ac.signal, (line) => void (/^(results|report): /.test(line) ? undefined : print(`[${t.release}] ${line}\n`)));
      const folders = await collect(share, req.runDir, t.release);
      marker.labs.push(...folders);
      marker.kernels!.push({ spec: t.spec, release: t.release, ranOn: r.guest ? r.guest.how : 'host', folders, exitCode: r.code, ...(r.guest ? { cpus: req.cpus, bootMs: r.guest.bootMs } : {}), ...(r.note ? { note: r.note } : {}) });
      writeMarker(req.runDir, marker);
      if (r.note) print(`[${t.release}] ${r.note}\n`);
      codes.push(r.code ?? 1);
    } finally {
      await rm(share, { recursive: true, force: true });
    }
  }
  writeMarker(req.runDir, { ...marker, status: stoppedBy ? 'interrupted' : 'finished', ...(stoppedBy ? { signal: stoppedBy } : {}), endedAt: new Date().toISOString() });
  const warn = (what: string) => (err: unknown) => process.stderr.write(`lab: could not write the run's ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
  await writeRunIndex(req.runDir).catch(warn('README.md'));
  await writeReportHtml(req.runDir).catch(warn('report.html'));
  const run = await loadRun(req.runDir);
  const done = run.labs.filter((l) => l.result).map((l) => ({ key: l.name, result: l.result as LabResult }));
  if (req.reporter) {
    const text = req.reporter === 'tap' ? toTap(done) : toJunit(done);
    if (req.reporterOut) await writeFile(req.reporterOut, text);
    else process.stdout.write(text);
  }
  if (req.json) process.stdout.write(JSON.stringify(done.map((d) => d.result), null, 2) + '\n');
  else print(`\n${formatMatrix(kernelMatrix(done.map((d) => d.result)))}\nresults: ${req.runDir}\nreport: ${path.join(req.runDir, 'report.html')}\n`);
  if (stoppedBy) return exitCodeOf(stoppedBy);
  // inner exit codes: 0 ran, 1 error, 3 skipped, 128+n stopped
  return codes.some((c) => c !== 0 && c !== 3) ? 1 : codes.some((c) => c === 3) ? 3 : 0;
}
