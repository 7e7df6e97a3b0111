// Shared by the benchmarks: running things in a fresh sandbox (the kind the labs run in), compiling the C
// reference, timing child processes, and the fixed number formats every bench prints.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** what the labs run in: a new user namespace (root inside) and a new, empty network namespace */
export const SANDBOX = ['unshare', '--user', '--map-root-user', '--net', '--'];
const TSX = ['--import', 'tsx'];

/** A mistake in the bench's arguments: printed as `bench: <message>`, exit 2. */
export class BenchUsage extends Error {}

export interface Stats {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function stats(xs: readonly number[]): Stats {
  if (!xs.length) throw new Error('no measurements');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, max: s[s.length - 1], n: s.length };
}

export const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x >= 100 ? Math.round(x) : x.toFixed(1)} ms`);
export const ratio = (x: number) => `${x.toFixed(2)}x`;
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
export const rate = (perSecond: number) => `${Math.round(perSecond).toLocaleString('en-US')}/s`;

/** One line about the machine, printed first by every bench. */
export function machineLine(): string {
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const cores = readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `node ${process.versions.node}, Linux ${kernel}, ${cores} core(s), load ${load}`;
}

/** Run a command to the end; resolves with its stdout (rejects with its last stderr line). */
export function runOut(file: string, args: readonly string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { cwd: o.cwd ?? ROOT, maxBuffer: 256 * 1024 * 1024, timeout: o.timeoutMs ?? 600_000 }, (err, out, stderr) => {
      if (!err) return resolve(out);
      reject(new Error(`${[file, ...args].join(' ').slice(0, 160)}: ${stderr.trim().split('\n').pop() || err.message}`));
    }),
  );
}

/** Wall time of a whole command, start to exit (ms); rejects if it fails. */
export function timeCommand(file: string, args: readonly string[], o: SpawnOptions = {}): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], ...o });
    let err = '';
    c.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${file} ${args.join(' ').slice(0, 120)} exited ${code}: ${err.trim().split('\n').pop() ?? ''}`))));
  });
}

/** The arguments of SANDBOX[0] that start a bench worker (scripts/bench/<name>.ts) with its input in a fresh sandbox. */
export function sandboxedWorker(worker: string, input: unknown): string[] {
  return [...SANDBOX.slice(1), process.execPath, ...TSX, path.join(ROOT, 'scripts/bench', worker), JSON.stringify(input)];
}

/** A bench worker (scripts/bench/<name>.ts) in a fresh sandbox; resolves with the JSON it prints last. */
export async function inSandbox<T>(worker: string, input: unknown): Promise<T> {
  const out = await runOut(SANDBOX[0], sandboxedWorker(worker, input));
  const last = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${worker} printed no result: ${out.trim().slice(-300)}`);
  }
}

/**
 * A long-lived process asked one question at a time: `ask(line)` writes the line to its stdin and resolves with
 * the JSON of the next line it prints; `end()` closes its stdin and waits for it to exit (0). Once it has died,
 * the question it was asked, and any asked after, fail with how it ended and its last stderr line.
 */
export class Asked<T> {
  private readonly child: ChildProcess;
  private buffered = '';
  private err = '';
  private waiting?: { resolve: (v: T) => void; reject: (e: Error) => void };
  private dead?: Error;
  private readonly exited: Promise<void>;

  constructor(private readonly what: string, file: string, args: readonly string[]) {
    this.child = spawn(file, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => this.take(b.toString()));
    this.child.stderr!.on('data', (b: Buffer) => (this.err = (this.err + b.toString()).slice(-2000)));
    this.child.stdin!.on('error', () => {}); // a write to a process that just died: its 'close' says why
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', (e) => this.die(e, reject));
      this.child.on('close', (code, signal) => {
        if (code === 0 && !this.waiting) {
          this.dead = new Error(`${this.what} has ended`);
          return resolve();
        }
        const how = signal ? `was killed by ${signal}` : `exited ${code}`;
        this.die(new Error(`${this.what} ${how}: ${this.err.trim().split('\n').pop() ?? ''}`), reject);
      });
    });
    this.exited.catch(() => {}); // reported through ask() or end()
  }

  private take(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      const w = this.waiting;
      this.waiting = undefined;
      if (!w) continue;
      try {
        w.resolve(JSON.parse(line) as T);
      } catch {
        w.reject(new Error(`${this.what} printed no result: ${line.slice(0, 200)}`));
      }
    }
  }

  private die(e: Error, reject: (e: Error) => void): void {
    this.dead = e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
    reject(e);
  }

  ask(line: string): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.waiting) return Promise.reject(new Error(`${this.what}: one question at a time`));
    return new Promise<T>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.stdin!.write(`${line}\n`);
    });
  }

  async end(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** Where the system compiler is, or undefined (cc, then gcc, then clang). */
export async function findCompiler(): Promise<string | undefined> {
  for (const cc of ['cc', 'gcc', 'clang']) {
    try {
      await runOut('sh', ['-c', `command -v ${cc}`]);
      return cc;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

export const NO_COMPILER =
  'no C compiler found (cc, gcc or clang): the churn bench compiles its C reference (scripts/churn.c) at run time; ' +
  'install one with `sudo apt-get install gcc` (Debian, Ubuntu) or `sudo dnf install gcc` (Fedora), then run it again';

/** Compile scripts/churn.c into a fresh temporary folder: the binary's path, and `remove` for the folder. */
export async function compileChurn(): Promise<{ binary: string; compiler: string; remove: () => void }> {
  const compiler = await findCompiler();
  if (!compiler) throw new BenchUsage(NO_COMPILER);
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-churn-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const binary = path.join(dir, 'churn');
  try {
    await runOut(compiler, ['-O2', '-Wall', '-o', binary, path.join(ROOT, 'scripts/churn.c')]);
  } catch (e) {
    remove();
    throw e;
  }
  return { binary, compiler, remove };
}

/** Fixed-width table rows (first column left, the rest right-aligned). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}
