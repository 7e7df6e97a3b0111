// Stage 2 of a guest: the per-run script /init hands over to (PID 1 of the overlay root). It mounts what a
// Linux userland expects, the kernel's own modules and the shared folder at the host's path, runs one
// command in the host's folder, and prints a start and an exit marker (with a nonce) before powering off.
import { GUEST_DIR, P9_OPTS } from './initramfs.ts';

export interface GuestScript {
  nonce: string;
  release: string;
  /** the kernel's modules folder as the guest sees it (the host's path: / is shared) */
  modules: string;
  /** host folder mounted read-write at the same path */
  share: string;
  cwd: string;
  command: readonly string[];
  env: Readonly<Record<string, string>>;
}

/** One word for sh: single-quoted, a quote inside as '\''. */
export function shq(s: string): string {
  if (s.includes('\0')) throw new Error('a NUL byte cannot be passed to a guest command');
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The markers, so the host can tell them from the command's output: `<nonce> start <uptime s>`, `<nonce> exit <code>`. */
export function parseMarker(line: string, nonce: string): { kind: 'start'; uptimeS: number } | { kind: 'exit'; code: number | null } | undefined {
  if (!line.startsWith(`${nonce} `)) return undefined;
  const [kind, value] = line.slice(nonce.length + 1).trim().split(/\s+/);
  if (kind === 'start') return { kind, uptimeS: Number(value) };
  if (kind === 'exit') return { kind, code: /^\d+$/.test(value ?? '') ? Number(value) : null };
  return undefined;
}

export function stage2Script(s: GuestScript): string {
  if (!s.command.length) throw new Error('a guest needs a command to run');
  for (const p of [s.modules, s.share, s.cwd]) if (!p.startsWith('/')) throw new Error(`guest paths must be absolute: ${p}`);
  const env = Object.keys(s.env).sort().map((k) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
    return shq(`${k}=${s.env[k]}`);
  });
  const b = `${GUEST_DIR}/busybox`;
  return `# tcp-lab guest, stage 2 (PID 1 of the overlay root)
B=${b}
say() { echo "${s.nonce} $*"; }
fail() { echo "tcp-lab-guest: $*"; say exit none; printf '\\n%s exit none\\n' ${s.nonce} >/dev/ttyS1; $B sync; $B poweroff -f; $B sleep 5; }
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$B ln -sf pts/ptmx /dev/ptmx
$B mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$B mount -t tmpfs -o mode=0755 tmpfs /run
$B mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
$B mkdir -p /lib/modules/${shq(s.release)} && $B mount --bind ${shq(s.modules)} /lib/modules/${shq(s.release)} || fail "cannot bind the kernel's modules"
$B mount -t 9p -o ${P9_OPTS},cache=mmap share ${shq(s.share)} || fail ${shq(`cannot mount the shared folder at ${s.share}`)}
$B stty -F /dev/ttyS1 raw -echo 2>/dev/null
$B hostname tcp-lab-guest
cd ${shq(s.cwd)} || fail ${shq(`no folder ${s.cwd} in the guest`)}
say start $($B cut -d' ' -f1 /proc/uptime)
# the command runs in the background, so that the host can ask it to stop: a line "<nonce> stop" on the console
# sends it SIGTERM (the CLI then stops its labs and writes their results, and the guest powers off as usual)
{ $B env -i ${env.join(' ')} ${s.command.map(shq).join(' ')} </dev/null 2>&1 & echo $! >${GUEST_DIR}/pid; wait $!; echo $? >${GUEST_DIR}/rc; } | $B cat >/dev/ttyS1 &
run=$!
$B stty -F /dev/ttyS0 -echo 2>/dev/null
( while IFS= read -r l; do [ "$l" = "${s.nonce} stop" ] && $B kill -TERM "$($B cat ${GUEST_DIR}/pid)"; done </dev/ttyS0 ) &
reader=$!
wait $run
$B kill $reader 2>/dev/null
rc=$($B cat ${GUEST_DIR}/rc 2>/dev/null || echo none)
printf '\\n%s exit %s\\n' ${s.nonce} "$rc" >/dev/ttyS1
say exit $rc
$B sync
$B umount ${shq(s.share)} 2>/dev/null
$B poweroff -f
$B sleep 5
`;
}
