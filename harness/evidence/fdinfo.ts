// Which file descriptors hold which sockets: /proc/<pid>/fd links (socket:[inode]) and the inode ss -e
// reports per socket (0 for a socket no descriptor refers to any more), so labs can say "held by fd N of pid P".
import { readdirSync, readlinkSync } from 'node:fs';
import type { Host } from '../kernel/host.ts';
import { parseSs, type SockRecord } from './ss.ts';

/** The socket inode an fd of a process refers to, or undefined (fd closed, or not a socket). */
export function socketInodeOf(pid: number, fd: number): number | undefined {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every fd of a process that refers to this socket inode (empty when no descriptor holds it). */
export function fdsHolding(pid: number, inode: number): number[] {
  const out: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) if (socketInodeOf(pid, Number(fd)) === inode) out.push(Number(fd));
  return out;
}

/** The `ino:N` ss -e printed for a record (0 = no descriptor refers to the socket), if present. */
export function inodeOfRecord(r: SockRecord): number | undefined {
  const m = /(?:^|\s)ino:(\d+)/.exec(r.extra ?? '');
  return m ? Number(m[1]) : undefined;
}

/** `ss -tanopeH`: sockets with owning processes (-p) and inode (-e), parsed. */
export async function readSocketsWithInodes(host: Host): Promise<SockRecord[]> {
  return parseSs(await host.exec('ss', ['-tanopeH']));
}
