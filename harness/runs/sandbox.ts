// Host side of the sandbox: check that this machine can make one, and start a lab's runner inside a
// fresh user + network namespace (rootless: `unshare --user --map-root-user --net`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { runCommand, toolPath, which } from '../kernel/exec.ts';
import { deadline } from '../kernel/pace.ts';
import { runnerBuild } from '../build/active.ts';
import type { RunnerJob } from './runner.ts';

const SETUP_HINT = "run 'scripts/setup.sh' (as root) or 'sudo apt-get install iproute2 util-linux'";
const REQUIRED = [
  { program: 'unshare', pkg: 'util-linux' },
  { program: 'ss', pkg: 'iproute2' },
  { program: 'ip', pkg: 'iproute2' },
];

let checked: Promise<void> | undefined;

/** What to change so user namespaces work, naming only the settings this kernel has (with their values now). */
export function usernsHint(proc = '/proc/sys'): string {
  const read = (name: string) => { try { return readFileSync(`${proc}/${name.replace(/\./g, '/')}`, 'utf8').trim(); } catch { return undefined; } };
  const fixes = [
    ['user.max_user_namespaces', (v: string) => v === '0', 'a non-zero value'],
    ['kernel.unprivileged_userns_clone', (v: string) => v === '0', '1'],
    ['kernel.apparmor_restrict_unprivileged_userns', (v: string) => v !== '0', '0'],
  ] as const;
  const found = fixes.flatMap(([name, blocks, want]) => { const v = read(name); return v === undefined ? [] : [`${name} is ${v}${blocks(v) ? ` (set it to ${want})` : ''}`]; });
  return `allow unprivileged user namespaces (${found.join('; ') || 'none of the usual sysctls exist here'}), or run outside a chroot or container that forbids them`;
}

/** Make sure unshare, ss and ip exist and that a user+net namespace can be made; UserError says what to do. */
export function preflight(): Promise<void> {
  checked ??= (async () => {
    for (const r of REQUIRED) {
      if (!(await which(r.program))) throw new UserError(`'${r.program}' (package ${r.pkg}) is not installed: ${SETUP_HINT}`);
    }
    const probe = await runCommand('unshare', ['--user', '--map-root-user', '--net', 'true'], { timeoutMs: deadline(5000), env: { ...process.env, PATH: toolPath() } });
    if (probe.exitCode !== 0) {
      const said = (probe.stderr || probe.problem || `exit ${probe.exitCode}`).trim().split('\n')[0];
      throw new UserError(`cannot create a user + network namespace (${said}): ${usernsHint()}`);
    }
  })();
  checked.catch(() => {
    checked = undefined;
  });
  return checked;
}

const RUNNER = fileURLToPath(new URL('./runner.ts', import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

/**
 * TMPDIR for the runner. Inside the namespace its euid is 0, so tsx would cache its transpiled modules in the
 * shared /tmp/tsx-0: root's own cache, unwritable for other users (every run re-transpiles and leaves an esbuild
 * process in the sandbox) and, if a user creates it first, a directory of theirs that root's tsx then trusts.
 */
function runnerTmpdir(): string {
  const uid = process.geteuid!();
  const dir = path.join(tmpdir(), `tcplab-runner-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (st.uid !== uid || (st.mode & 0o077) !== 0) throw new Error(`${dir} must be a directory of uid ${uid} with mode 700`);
  return dir;
}

/**
 * Start the runner for one lab inside a new namespace; messages arrive on the IPC channel. It gets a process group
 * of its own (detached): a terminal's Ctrl-C reaches npm and the CLI only, and the CLI passes it on, so the
 * commands the lab is running at that moment (ip, ss, nft) are not killed under it. It still dies with the CLI
 * (PR_SET_PDEATHSIG in runner.ts).
 */
export function spawnRunner(job: RunnerJob): ChildProcess {
  // prebuilt (npm run lab, or a build the tests name): plain node runs the runner's bundle; otherwise tsx runs it from source
  const built = runnerBuild(job.module);
  // the sandbox has no route out, so no TLS: without NODE_EXTRA_CA_CERTS, Node does not parse that file of
  // certificates at every start (~65 ms of CPU here, two thirds of a bare node's start), in the runner or in
  // anything it starts (actors, the leaky server)
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  return spawn(
    'unshare',
    ['--user', '--map-root-user', '--net', '--', process.execPath, ...(built ? [built.script] : ['--import', TSX_LOADER, RUNNER]), JSON.stringify(job)],
    {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env: {
        ...env,
        ...(built ? { TCP_LAB_BUILD: built.build } : {}),
        TMPDIR: runnerTmpdir(),
        PATH: toolPath(),
        TCP_LAB_PARENT_PID: String(process.pid),
        TCP_LAB_HOST_NETNS: readlinkSync('/proc/self/ns/net'),
      },
    },
  );
}
