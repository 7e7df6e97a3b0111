// More hosts inside a lab's sandbox: extra network namespaces (each with its own sysctls and ss view), made
// in-process with unshare(2) and held only by an fd of the runner, so they die with it on every exit path;
// and a two-host topology (client + server joined by a veth pair, non-loopback addresses).
import { closeSync, openSync, readlinkSync } from 'node:fs';
import type { Recorder } from './recorder.ts';
import { run } from './exec.ts';
import { streamRun } from './stream.ts';
import { setNamespace, unshareNamespace } from './ffi.ts';
import { localHost, type Host } from './host.ts';
import { readSysctl, setUpSysctl } from './sysctl.ts';

/** A network namespace the lab can put sockets in, run commands in and tune. */
export interface Netns {
  name: string;
  host: Host;
  /** a path other programs (nsenter, ip ... netns) can open to reach this namespace */
  path: string;
  /** run synchronous code with the main thread switched into this namespace (sockets made here stay here) */
  within<T>(fn: () => T): T;
  /** write a sysctl inside this namespace; recorded in the result as "<host>:<name>" */
  sysctl(name: string, value: string): Promise<string>;
  /** read a sysctl inside this namespace (trimmed, whitespace collapsed) */
  readSysctl(name: string): string;
}

let runnerNsFd: number | undefined;

/** The fd of the runner's own namespace, opened once (setns back to it after every switch). */
function homeFd(): number {
  runnerNsFd ??= openSync('/proc/thread-self/ns/net', 'r');
  return runnerNsFd;
}

function record(ctx: Recorder, ns: { name: string; host: Host }, name: string, value: string): string {
  const key = ns.name === ctx.host.name ? name : `${ns.name}:${name}`;
  ctx.sysctls[key] = value;
  ctx.event('sysctl', `${name} = ${value}`, { name, value }, ns.host);
  return value;
}

/** The runner's own namespace under a host name of the lab's choosing (e.g. "server"). */
export function runnerNetns(ctx: Recorder, name = ctx.host.name): Netns {
  ctx.captures?.alias(ctx.host.name, name);
  const host = name === ctx.host.name ? ctx.host : localHost(name);
  const ns: Netns = {
    name,
    host,
    path: `/proc/${process.pid}/ns/net`,
    within: (fn) => fn(),
    readSysctl,
    async sysctl(sysctl, value) {
      return record(ctx, ns, sysctl, setUpSysctl(sysctl, value));
    },
  };
  return ns;
}

/** Make a fresh network namespace (lo up) owned by this process; closed by the lab's teardown or its death. */
export async function createNetns(ctx: Recorder, name: string): Promise<Netns> {
  const home = homeFd();
  let fd: number;
  unshareNamespace();
  try {
    fd = openSync('/proc/thread-self/ns/net', 'r');
  } finally {
    setNamespace(home);
  }
  ctx.defer(() => closeSync(fd));
  const path = `/proc/${process.pid}/fd/${fd}`;
  const within = <T>(fn: () => T): T => {
    setNamespace(fd);
    try {
      return fn();
    } finally {
      setNamespace(home);
    }
  };
  ctx.captures?.add(name, within); // before lo is up: the capture sees the namespace's first frame
  const host: Host = {
    name,
    exec: (file, args) => run('nsenter', [`--net=${path}`, '--', file, ...args]),
    stream: (file, args, onText) => streamRun('nsenter', [`--net=${path}`, '--', file, ...args], onText),
  };
  const ns: Netns = {
    name,
    host,
    path,
    within,
    readSysctl: (sysctl) => within(() => readSysctl(sysctl)),
    async sysctl(sysctl, value) {
      return record(ctx, ns, sysctl, within(() => setUpSysctl(sysctl, value)));
    },
  };
  await host.exec('ip', ['link', 'set', 'lo', 'up']);
  const inode = within(() => readlinkSync('/proc/thread-self/ns/net'));
  ctx.event('netns', `new network namespace ${name} (${inode}), held by fd ${fd} of the runner only`, { name, netns: inode, fd }, host);
  return ns;
}

/** Two hosts joined by a veth pair, each with its own non-loopback address. */
export interface TwoHosts {
  client: Netns;
  server: Netns;
  clientAddr: string;
  serverAddr: string;
}

export interface TwoHostsOptions {
  /** which /24 inside 10.199.0.0/16 (several pairs in one lab need different subnets); default 0 */
  subnet?: number;
  /** make the server a fresh namespace too, instead of the runner's own (default false) */
  separateServer?: boolean;
  clientName?: string;
  serverName?: string;
}

/**
 * A client host and a server host: by default the runner's namespace is the server ("server") and a new
 * namespace is the client ("client"); 10.199.<subnet>.1 is the server and .2 the client. The addresses exist
 * only inside these private namespaces.
 */
export async function twoHosts(ctx: Recorder, o: TwoHostsOptions = {}): Promise<TwoHosts> {
  const subnet = o.subnet ?? 0;
  const client = await createNetns(ctx, o.clientName ?? 'client');
  const server = o.separateServer ? await createNetns(ctx, o.serverName ?? 'server') : runnerNetns(ctx, o.serverName ?? 'server');
  const serverAddr = `10.199.${subnet}.1`;
  const clientAddr = `10.199.${subnet}.2`;
  const sIf = `s${subnet}`;
  const cIf = `c${subnet}`;
  // made inside the client, its peer pushed into the server namespace by path
  await client.host.exec('ip', ['link', 'add', cIf, 'type', 'veth', 'peer', 'name', sIf, 'netns', server.path]);
  await client.host.exec('ip', ['addr', 'add', `${clientAddr}/24`, 'dev', cIf]);
  await client.host.exec('ip', ['link', 'set', cIf, 'up']);
  await server.host.exec('ip', ['addr', 'add', `${serverAddr}/24`, 'dev', sIf]);
  await server.host.exec('ip', ['link', 'set', sIf, 'up']);
  ctx.event('topology', `${client.name} ${clientAddr} (${cIf}) <-> ${server.name} ${serverAddr} (${sIf}) over a veth pair`, {
    client: client.name, server: server.name, clientAddr, serverAddr,
  });
  return { client, server, clientAddr, serverAddr };
}
