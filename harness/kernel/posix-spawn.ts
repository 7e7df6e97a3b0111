// posix_spawn(3) through the FFI, for the short commands (spawn.ts). glibc spawns with CLONE_VFORK, so nothing of
// the Node process is copied, where child_process forks it. The child closes every descriptor but 0-2 before its
// exec; output arrives on pipes read by the event loop, and the child is reaped with waitpid(WNOHANG) once its
// pipes have closed.
import { accessSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import koffi from 'koffi';

/** How a command ended: its exit status, the signal that killed it, or why it never ran. */
export interface Ended {
  exitCode?: number;
  signal?: string;
  problem?: string;
}

/** A started command: its output pipes (read by the event loop), and how to end and reap it. */
export interface Spawned {
  stdout: Readable;
  stderr: Readable;
  /** SIGKILL, unless it was reaped already */
  kill(): void;
  /**
   * Once both pipes have closed (read to their end, or destroyed) and the command has ended: its exit status or the
   * signal that ended it (memoized). Output is whole when this resolves.
   */
  reaped(): Promise<Ended>;
}

const O_CLOEXEC = 0o2000000;
const O_RDONLY = 0;
const WNOHANG = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const ENOENT = 2;
/** glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128: room to spare */
const [FA_SIZE, ATTR_SIZE, SIGSET_SIZE] = [256, 512, 256];

function bind() {
  const c = koffi.load('libc.so.6');
  return {
    spawn: c.func('int posix_spawn(_Out_ int32_t *pid, const char *file, void *fa, void *attr, const char **argv, const char **envp)'),
    faInit: c.func('int posix_spawn_file_actions_init(void *fa)'),
    faDup2: c.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
    faOpen: c.func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, int mode)'),
    faDestroy: c.func('int posix_spawn_file_actions_destroy(void *fa)'),
    faCloseFrom: c.func('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)'),
    attrInit: c.func('int posix_spawnattr_init(void *attr)'),
    attrFlags: c.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    attrSigDefault: c.func('int posix_spawnattr_setsigdefault(void *attr, void *set)'),
    attrSigMask: c.func('int posix_spawnattr_setsigmask(void *attr, void *set)'),
    sigFill: c.func('int sigfillset(void *set)'),
    sigEmpty: c.func('int sigemptyset(void *set)'),
    pipe2: c.func('int pipe2(_Out_ int32_t *fds, int flags)'),
    close: c.func('int close(int fd)'),
    waitpid: c.func('int waitpid(int pid, _Out_ int32_t *status, int options)'),
    errno: () => koffi.errno(),
  };
}

type Libc = ReturnType<typeof bind>;
let lib: Libc | null | undefined;
/** the spawn attributes every child gets: every signal back to its default (Node ignores SIGPIPE), none blocked */
let attr: Buffer | undefined;

/** The bound calls, or null where they cannot be had (then spawn.ts uses child_process). */
function libc(): Libc | null {
  if (lib !== undefined) return lib;
  try {
    lib = bind();
    const [all, none] = [Buffer.alloc(SIGSET_SIZE), Buffer.alloc(SIGSET_SIZE)];
    attr = Buffer.alloc(ATTR_SIZE);
    lib.sigFill(all);
    lib.sigEmpty(none);
    if (lib.attrInit(attr) || lib.attrFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) || lib.attrSigDefault(attr, all) || lib.attrSigMask(attr, none)) lib = null;
  } catch {
    lib = null;
  }
  return lib;
}

/** Can commands be started here with posix_spawn (glibc 2.34 or later, through koffi)? */
export function canPosixSpawn(): boolean {
  return libc() !== null;
}

const found = new Map<string, string | undefined>();
/** The program's path as execvp would find it on `searchPath` (remembered), or undefined. */
function resolveProgram(file: string, searchPath: string): string | undefined {
  if (file.includes('/')) return file;
  const key = `${searchPath}\0${file}`;
  if (!found.has(key)) {
    found.set(key, searchPath.split(':').filter(Boolean).map((d) => path.join(d, file)).find((p) => {
      try {
        accessSync(p, fsConstants.X_OK);
        return true;
      } catch {
        return false;
      }
    }));
  }
  return found.get(key);
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

/** What starting a command takes (spawn.ts's runCommand adds a timeout). */
export interface StartOptions {
  /** written to the command's stdin (without it, stdin is /dev/null) */
  input?: string;
  /** the environment (default: this process's); its PATH is where the program is looked for */
  env?: NodeJS.ProcessEnv;
}

/** posix_spawn `file` (looked up on the env's PATH) with stdin from `input` or /dev/null; the caller checks canPosixSpawn(). */
export function spawnPiped(file: string, args: readonly string[], o: StartOptions = {}): Spawned | { problem: string } {
  const c = libc()!;
  const env = o.env ?? process.env;
  const program = resolveProgram(file, env.PATH ?? process.env.PATH ?? '');
  if (!program) return { problem: `${file}: not found` };
  const fds: number[] = [];
  try {
    const [out, err] = [pipe(c, fds), pipe(c, fds)];
    const input = o.input !== undefined ? pipe(c, fds) : undefined;
    const fa = Buffer.alloc(FA_SIZE);
    c.faInit(fa);
    let rc: number;
    const pidOut = new Int32Array(1);
    try {
      if (input) c.faDup2(fa, input[0], 0);
      else c.faOpen(fa, 0, '/dev/null', O_RDONLY, 0);
      c.faDup2(fa, out[1], 1);
      c.faDup2(fa, err[1], 2);
      // and before its exec, every other descriptor closed in the child: posix_spawn returns once the exec has begun,
      // and close-on-exec alone would leave the child holding our sockets a moment longer (a listener we close then
      // stays LISTEN: time-wait-restart saw EADDRINUSE over FIN-WAIT-2 in 31 of 280 runs without this)
      if (c.faCloseFrom(fa, 3) !== 0) throw new Error('posix_spawn_file_actions_addclosefrom_np failed');
      const envp = [...Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`), null];
      rc = c.spawn(pidOut, program, fa, attr!, [file, ...args, null], envp);
    } finally {
      c.faDestroy(fa);
    }
    if (rc !== 0) {
      fds.splice(0).forEach((fd) => c.close(fd));
      return { problem: rc === ENOENT ? `${file}: not found` : `posix_spawn of ${file} failed (errno ${rc})` };
    }
    // the child's ends are the child's alone now; ours go to the event loop
    for (const fd of [out[1], err[1], ...(input ? [input[0]] : [])]) c.close(fd);
    fds.length = 0;
    if (input) {
      const w = new net.Socket({ fd: input[1], readable: false, writable: true });
      w.on('error', () => {}); // a command that exits without reading all of its input
      w.end(o.input ?? '');
    }
    return started(c, pidOut[0], new net.Socket({ fd: out[0], readable: true, writable: false }), new net.Socket({ fd: err[0], readable: true, writable: false }));
  } catch (e) {
    fds.splice(0).forEach((fd) => c.close(fd));
    return { problem: e instanceof Error ? e.message : String(e) };
  }
}

function pipe(c: Libc, opened: number[]): [number, number] {
  const fds = new Int32Array(2);
  if (c.pipe2(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2 failed (errno ${c.errno()})`);
  opened.push(fds[0], fds[1]);
  return [fds[0], fds[1]];
}

function started(c: Libc, pid: number, stdout: net.Socket, stderr: net.Socket): Spawned {
  let done: Promise<Ended> | undefined;
  let gone = false;
  const closed = Promise.all([stdout, stderr].map((s) => new Promise((res) => s.on('error', () => {}).on('close', res))));
  return {
    stdout,
    stderr,
    kill: () => {
      try {
        if (!gone) process.kill(pid, 'SIGKILL'); // not reaped yet: the pid is still this child's (alive or a zombie)
      } catch {
        /* gone meanwhile */
      }
    },
    reaped: () =>
      (done ??= (async () => {
        await closed;
        const status = new Int32Array(1);
        let r = 0;
        for (let wait = 1; r === 0; wait = Math.min(wait * 2, 50)) {
          r = c.waitpid(pid, status, WNOHANG);
          if (r === 0) await new Promise((res) => setTimeout(res, wait)); // its pipes are closed: the exit is a moment away
        }
        gone = true;
        if (r !== pid) return { problem: `waitpid failed (errno ${c.errno()})` };
        const st = status[0];
        if ((st & 0x7f) === 0) return { exitCode: (st >> 8) & 0xff };
        return { signal: SIGNAL_NAMES.get(st & 0x7f) ?? `signal ${st & 0x7f}` };
      })()),
  };
}
