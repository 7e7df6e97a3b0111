// AF_PACKET sockets through libc (koffi): the capture's view of every frame a network namespace's interfaces
// send and receive. Opened in the namespace to capture (a packet socket stays bound to the namespace it was made
// in), then read by the capture worker thread (capture-worker.mjs) with blocking recv and a receive timeout.
import koffi from 'koffi';
import { errnoName } from './ffi.ts';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVTIMEO = 20;
const SO_ATTACH_FILTER = 26;

let lib: ReturnType<typeof bind> | undefined;
function bind() {
  const libc = koffi.load('libc.so.6');
  koffi.struct('tcplab_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
  koffi.struct('tcplab_sock_fprog', { len: 'uint16', filter: 'tcplab_sock_filter *' });
  return {
    attachFilter: libc.func('int setsockopt(int fd, int level, int name, tcplab_sock_fprog *value, uint32_t len)'),
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
    close: libc.func('int close(int fd)'),
  };
}
function libc() {
  lib ??= bind();
  return lib;
}

/** A failed call on a packet socket, with errno's name (EPERM, EAGAIN ...). */
export class PacketSocketError extends Error {
  constructor(readonly syscall: string, readonly errno: number) {
    super(`${syscall} failed: ${errnoName(errno)}`);
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

function check(syscall: string, ret: number): number {
  if (ret < 0) throw new PacketSocketError(syscall, koffi.errno());
  return ret;
}

// classic BPF: on the loopback device (ifindex 1 in every namespace) each frame passes the tap twice, once
// outgoing and once incoming; keep the incoming copy only, as tcpdump does. Everything else is kept whole.
const SKF_AD_OFF = 0xfffff000;
const SKF_AD_PKTTYPE = 4;
const SKF_AD_IFINDEX = 8;
const PACKET_OUTGOING = 4;
const LOOPBACK_IFINDEX = 1;
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const FILTER: [code: number, jt: number, jf: number, k: number][] = [
  [BPF_LD_W_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PKTTYPE],
  [BPF_JEQ_K, 0, 2, PACKET_OUTGOING],
  [BPF_LD_W_ABS, 0, 0, SKF_AD_OFF + SKF_AD_IFINDEX],
  [BPF_JEQ_K, 1, 0, LOOPBACK_IFINDEX],
  [BPF_RET_K, 0, 0, 0x40000],
  [BPF_RET_K, 0, 0, 0],
];

/**
 * socket(AF_PACKET, SOCK_RAW, ETH_P_ALL) in the calling thread's network namespace, with the loopback filter,
 * a large receive buffer (as large as the kernel allows) and a receive timeout so a blocking reader can look up.
 * Frames start queuing at once, so whatever is sent after this returns is captured.
 */
export function openPacketSocket(timeoutMs = 50): number {
  const fd = check('socket(AF_PACKET)', libc().socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8)));
  try {
    const filter = FILTER.map(([code, jt, jf, k]) => ({ code, jt, jf, k: k >>> 0 }));
    check('setsockopt(SO_ATTACH_FILTER)', libc().attachFilter(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: filter.length, filter }, 16));
    const size = Buffer.alloc(4);
    size.writeInt32LE(8 << 20, 0); // capped by net.core.rmem_max
    libc().setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
    tv.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
    check('setsockopt(SO_RCVTIMEO)', libc().setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16));
    return fd;
  } catch (err) {
    libc().close(fd);
    throw err;
  }
}

export function closePacketSocket(fd: number): void {
  libc().close(fd);
}
