// Facts about the machine a run ran on, stored in run.json under `machine`, so two runs can be told apart:
// kernel, distribution, tool versions, CPUs, and the TCP sysctls a fresh network namespace starts with.
// No hostname, user name or address is recorded. Never throws: a fact that cannot be had is left out.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { runCommand, toolPath } from '../kernel/exec.ts';
import { deadline } from '../kernel/pace.ts';
import { sysctlPath } from '../kernel/sysctl.ts';
import { byText } from '../order.ts';

export interface MachineFacts {
  /** uname -srm: "Linux 6.1.0-18-amd64 x86_64" */
  kernel: string;
  /** PRETTY_NAME from /etc/os-release */
  distribution?: string;
  /** process.version of the Node that ran the CLI */
  node: string;
  /** `ss -V`: "ss utility, iproute2-6.1.0" */
  iproute2?: string;
  /** `nft --version`: "nftables v1.0.6 (Lester Gooch #5)" */
  nft?: string;
  cpus: { count: number; model?: string };
  /** the kernel's defaults as a fresh network namespace gets them (names this kernel lacks are absent) */
  sysctls?: Record<string, string>;
}

/** The sysctls whose defaults decide what the labs see (all of them per network namespace). */
export const DEFAULT_SYSCTLS = [
  'net.core.somaxconn',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_max_tw_buckets',
  'net.ipv4.tcp_orphan_retries',
  'net.ipv4.tcp_retries2',
  'net.ipv4.tcp_syn_retries',
  'net.ipv4.tcp_synack_retries',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_tw_reuse',
] as const;

const TIMEOUT_MS = 3000;

/** stdout of a command, first line, trimmed; undefined if it is missing, fails or says nothing. */
async function firstLine(file: string, args: readonly string[]): Promise<string | undefined> {
  const r = await runCommand(file, args, { timeoutMs: deadline(TIMEOUT_MS), env: { PATH: toolPath() } });
  const line = r.stdout.split('\n')[0].trim();
  return r.exitCode === 0 && line ? line : undefined;
}

/** PRETTY_NAME from os-release text (quotes and shell escapes removed). */
export function prettyName(osRelease: string): string | undefined {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  if (!m) return undefined;
  const raw = m[1].trim();
  const unquoted = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
  return unquoted.replace(/\\(.)/g, '$1') || undefined;
}

async function distribution(): Promise<string | undefined> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return prettyName(await readFile(file, 'utf8'));
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

/**
 * Read the sysctls inside a fresh user + network namespace, with one `grep` started by `unshare`: it prints
 * "<path>:<value>" for every file that exists. (The host's own namespace is only read through this child.)
 */
export async function freshNamespaceSysctls(names: readonly string[] = DEFAULT_SYSCTLS): Promise<Record<string, string> | undefined> {
  const paths = names.map(sysctlPath);
  // one grep prints "<path>:<value>" for every file it can read (an emulated guest pays ~50 ms per process
  // started, so not a shell with a cat per file); a missing file makes grep exit 2 after the others
  const r = await runCommand('unshare', ['--user', '--map-root-user', '--net', '--', 'grep', '-Hs', '', ...paths], { timeoutMs: deadline(TIMEOUT_MS), env: { PATH: toolPath() } });
  if (r.exitCode !== 0 && r.exitCode !== 2) return undefined;
  const byPath = new Map(names.map((n) => [sysctlPath(n), n]));
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf(':');
    const name = eq > 0 ? byPath.get(line.slice(0, eq)) : undefined;
    if (name) out[name] = line.slice(eq + 1).trim().replace(/\s+/g, ' ');
  }
  return Object.keys(out).length ? Object.fromEntries(Object.entries(out).sort(([a], [b]) => byText(a, b))) : undefined;
}

function cpus(): MachineFacts['cpus'] {
  try {
    const list = os.cpus();
    const models = [...new Set(list.map((c) => c.model.trim().replace(/\s+/g, ' ')).filter(Boolean))];
    const count = list.length || os.availableParallelism();
    return models.length ? { count, model: models.join(' / ') } : { count };
  } catch {
    return { count: 0 };
  }
}

function kernel(): string {
  try {
    return `${os.type()} ${os.release()} ${os.machine()}`;
  } catch {
    return 'unknown';
  }
}

/** Everything above, gathered at once (a few child processes in parallel; about 20-60 ms). Never throws. */
export async function machineFacts(): Promise<MachineFacts> {
  const [dist, iproute2, nft, sysctls] = await Promise.all([distribution(), firstLine('ss', ['-V']), firstLine('nft', ['--version']), freshNamespaceSysctls()]);
  const facts: MachineFacts = { kernel: kernel(), node: process.version, cpus: cpus() };
  if (dist) facts.distribution = dist;
  if (iproute2) facts.iproute2 = iproute2;
  if (nft) facts.nft = nft;
  if (sysctls) facts.sysctls = sysctls;
  // a fixed key order, so run.json files diff well
  const order: (keyof MachineFacts)[] = ['kernel', 'distribution', 'node', 'iproute2', 'nft', 'cpus', 'sysctls'];
  return Object.fromEntries(order.filter((k) => facts[k] !== undefined).map((k) => [k, facts[k]])) as unknown as MachineFacts;
}
