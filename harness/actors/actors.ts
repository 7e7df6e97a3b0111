// Actors: separate processes inside the lab's sandbox that own real sockets (so one can be killed mid-
// connection). The lab drives each over IPC, receives its socket events, and can kill it with any signal.
// Every actor is registered for teardown; it also dies with the runner (PDEATHSIG) and on IPC disconnect.
import { deadline } from '../kernel/pace.ts';
import type { ResultPromise } from 'execa';
import { actorLaunch } from './launch.ts';
import type { Recorder } from '../kernel/recorder.ts';
import type { ActorCommand, ActorEvent, ActorEventKind, ActorMessage, ConnInfo, SyscallResult } from './protocol.ts';
import { until } from '../kernel/wait.ts';


export interface ActorExit {
  code: number | null;
  signal: string | null;
}

/** A failure of an actor process the lab did not ask for (crash, unexpected exit, no answer). */
export class ActorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActorError';
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** One actor process, as the lab sees it. */
export class Actor {
  readonly events: ActorEvent[] = [];
  readonly output: string[] = [];
  pid = 0;
  exit?: ActorExit;
  private expectExit = false;
  private crash?: ActorError;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<ActorExit>;
  private readyResolve?: () => void;
  readonly ready: Promise<void>;

  constructor(private readonly ctx: Recorder, readonly name: string, private readonly proc: ResultPromise) {
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {});
    proc.on('message', (m: ActorMessage) => this.onMessage(m));
    for (const [stream, s] of [['stdout', proc.stdout], ['stderr', proc.stderr]] as const) {
      let rest = '';
      s?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.line(stream, line);
      });
      s?.on('end', () => rest && this.line(stream, rest));
    }
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit'): fires once stdout/stderr are drained, so the last output is in the crash message
      proc.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.onExit();
      });
      proc.on('error', (err) => this.fail(`actor '${this.name}' could not run: ${err.message}`));
    });
    proc.catch(() => {}); // execa's promise: exits are handled through 'exit'
  }

  private readyReject?: (e: Error) => void;

  private line(stream: string, line: string): void {
    if (!line) return;
    this.output.push(`[${this.name}] ${line}`);
    this.ctx.event('actor-output', `[${this.name}] ${line}`, { actor: this.name, stream });
  }

  private onMessage(m: ActorMessage): void {
    if (m.type === 'ready') {
      this.pid = m.pid;
      this.readyResolve?.();
    } else if (m.type === 'reply') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(`actor '${this.name}': ${m.error}`), { code: m.code }));
    } else if (m.type === 'event') {
      this.events.push(m);
      if (m.kind !== 'data') {
        const what = m.kind === 'error' ? `${m.code}${m.syscall ? ` (${m.syscall})` : ''}` : m.info ? `:${m.info.localPort} <-> :${m.info.remotePort}` : m.kind === 'close' ? `hadError=${m.hadError}` : '';
        this.ctx.event('actor-event', `[${this.name}] conn ${m.conn} ${m.kind}${what ? `: ${what}` : ''}`, { actor: this.name, ...stripType(m) });
      }
    }
  }

  private onExit(): void {
    const how = this.exit!.signal ? `was killed by ${this.exit!.signal}` : `exited with code ${this.exit!.code}`;
    this.ctx.event('actor-exit', `[${this.name}] pid ${this.pid} ${how}${this.expectExit ? '' : ' (unexpected)'}`, { actor: this.name, pid: this.pid, ...this.exit, expected: this.expectExit });
    if (!this.expectExit) {
      const said = this.output.filter((l) => l.length).slice(-3).join(' | ');
      this.fail(`actor '${this.name}' (pid ${this.pid}) ${how} while the lab still needed it${said ? `; last output: ${said}` : ''}`);
    }
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.crash ?? new ActorError(`actor '${this.name}' exited before answering`));
    }
    this.pending.clear();
  }

  private fail(message: string): void {
    this.crash ??= new ActorError(message);
    this.readyReject?.(this.crash);
  }

  /** The crash the lab did not ask for, if any. */
  get failure(): ActorError | undefined {
    return this.crash;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Send a command and wait for its answer (rejects if the actor crashes or does not answer in time). */
  request<T = unknown>(cmd: ActorCommand, timeoutMs = 5000): Promise<T> {
    if (this.crash) return Promise.reject(this.crash);
    if (this.exit) return Promise.reject(new ActorError(`actor '${this.name}' has already exited (asked to ${cmd.op})`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ActorError(`actor '${this.name}' did not answer '${cmd.op}' within ${deadline(timeoutMs)} ms`));
      }, deadline(timeoutMs));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ type: 'request', id, cmd });
    });
  }

  /** Listen on a port (connections arrive paused unless read). */
  listen(port: number, o: { allowHalfOpen?: boolean; read?: boolean } = {}): Promise<{ port: number }> {
    return this.request({ op: 'listen', port, ...o });
  }

  /** Connect to a port on 127.0.0.1; the connection stays paused unless read. */
  connect(port: number, o: { allowHalfOpen?: boolean; read?: boolean } = {}): Promise<ConnInfo> {
    return this.request({ op: 'connect', port, ...o });
  }

  /** recv(2) now: bytes, 0 (EOF) or -1 with errno. */
  sysread(conn: number, max = 65536): Promise<SyscallResult> {
    return this.request({ op: 'sysread', conn, max });
  }

  /** send(2) now (no SIGPIPE): bytes or -1 with errno. */
  syswrite(conn: number, bytes: number): Promise<SyscallResult> {
    return this.request({ op: 'syswrite', conn, bytes });
  }

  /** Wait until this actor reported an event matching kind (and conn, if given). */
  async waitEvent(kind: ActorEventKind, conn?: number, timeoutMs = 2000): Promise<ActorEvent> {
    const match = () => this.events.find((e) => e.kind === kind && (conn === undefined || e.conn === conn));
    return until(
      async () => {
        if (this.crash) throw this.crash;
        const e = match();
        return e ? { done: true, value: e } : { done: false, last: undefined };
      },
      { what: `'${kind}' event from actor '${this.name}'${conn === undefined ? '' : ` on conn ${conn}`}`, timeoutMs, signal: this.ctx.signal, describe: () => `events: ${this.events.filter((e) => e.kind !== 'data').map((e) => `${e.conn}:${e.kind}`).join(', ') || 'none'}` },
    );
  }

  /** The accepted connection from `remotePort` to `localPort` (give it: one ephemeral port can serve two destinations). */
  async accepted(remotePort: number, localPort: number, timeoutMs = 2000): Promise<ConnInfo> {
    const find = () => this.events.find((e) => e.kind === 'accept' && e.info?.remotePort === remotePort && e.info.localPort === localPort)?.info;
    return until(
      async () => {
        if (this.crash) throw this.crash;
        const i = find();
        return i ? { done: true, value: i } : { done: false, last: undefined };
      },
      { what: `connection from port ${remotePort} to :${localPort} accepted by '${this.name}'`, timeoutMs, signal: this.ctx.signal },
    );
  }

  /** Send a signal the lab chose and wait for the process to be gone. */
  async kill(signal: NodeJS.Signals): Promise<ActorExit> {
    if (this.exit) return this.exit;
    this.expectExit = true;
    this.ctx.event('kill', `[${this.name}] kill -${signal.replace(/^SIG/, '')} ${this.pid}`, { actor: this.name, pid: this.pid, signal });
    this.proc.kill(signal);
    return this.exited;
  }

  /** Resolves when the process has exited (for whatever reason). */
  gone(): Promise<ActorExit> {
    return this.exited;
  }

  /** Teardown: SIGKILL if still alive. */
  async dispose(): Promise<void> {
    if (this.exit) return;
    this.expectExit = true;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

function stripType(m: ActorEvent): Record<string, unknown> {
  const { type: _t, ...rest } = m;
  return rest;
}

/** Start actors in parallel, register their teardown, and wait until each is ready. */
export async function startActors(ctx: Recorder, names: readonly string[]): Promise<Actor[]> {
  // loaded here, not at the top: every lab imports this module through harness/index.ts, few start actors
  const [launch, { execa }] = await Promise.all([actorLaunch(), import('execa')]);
  const actors = names.map((name) => {
    const proc = execa(process.execPath, [...launch.args, name], {
      ipc: true,
      // a process group of its own: Ctrl-C reaches the lab, which stops its actors; they still die with it
      detached: true,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      env: { TCP_LAB_ACTOR_PARENT: String(process.pid) },
    });
    const actor = new Actor(ctx, name, proc);
    ctx.defer(() => actor.dispose());
    return actor;
  });
  await Promise.all(
    actors.map((a) =>
      Promise.race([
        a.ready,
        new Promise((_, reject) => setTimeout(() => reject(new ActorError(`actor '${a.name}' did not start within ${deadline(15)} s`)), deadline(15_000)).unref()),
      ]),
    ),
  );
  const how = launch.how === 'bundle' ? 'bundled entry script' : `tsx loader${launch.note ? ` (no bundle: ${launch.note})` : ''}`;
  for (const a of actors) ctx.event('actor-spawn', `[${a.name}] started, pid ${a.pid}, ${how}`, { actor: a.name, pid: a.pid, launch: launch.how });
  return actors;
}

/** Throw the first crash of any actor (a lab calls this at the end, so an unnoticed crash fails it). */
export function checkActors(actors: readonly Actor[]): void {
  const bad = actors.find((a) => a.failure);
  if (bad) throw bad.failure;
}
