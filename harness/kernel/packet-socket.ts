// AF_PACKET sockets through libc (koffi): the capture's view of every frame a network namespace's interfaces
// send and receive. Opened in the namespace to capture (a packet socket stays bound to the namespace it was made
// in), with a shared-memory receive ring that the capture worker thread (capture-worker.mjs) reads.
import koffi, { type LibraryHandle } from 'koffi';
import { errnoName, libc as ffiLibc } from './ffi.ts';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_RX_RING = 5;
const PACKET_VERSION = 10;
const TPACKET_V3 = 2;

let lib: (ReturnType<typeof ffiLibc> & { attachFilter: ReturnType<LibraryHandle['func']> }) | undefined;
/** ffi.ts's libc calls, and setsockopt declared once more with the BPF program's struct (SO_ATTACH_FILTER) */
function libc() {
  lib ??= (() => {
    koffi.struct('tcplab_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
    koffi.struct('tcplab_sock_fprog', { len: 'uint16', filter: 'tcplab_sock_filter *' });
    const attachFilter = koffi.load('libc.so.6').func('int setsockopt(int fd, int level, int name, tcplab_sock_fprog *value, uint32_t len)');
    return { ...ffiLibc(), attachFilter };
  })();
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

/** The receive ring the kernel writes frames into (TPACKET_V3): blocks of frames, handed over whole. */
export interface PacketRing {
  blockSize: number;
  blockCount: number;
  /** ms after which the kernel hands over a block that is not full */
  retireMs: number;
}

// A block not full is handed over after retireMs, so at a trickle of frames every block lasts retireMs: the reader
// may be kept off a core for blockCount x retireMs before the kernel has nowhere to write (a drop). Many small
// blocks rather than a few big ones: 4 MB rides out 160 ms (it was 80 ms, and a loaded CI machine dropped a frame).
export const RING: PacketRing = { blockSize: 1 << 18, blockCount: 16, retireMs: 10 };
/** for every namespace after a lab's first (matrix labs make dozens, each with a few connections): 1.5 MB, 120 ms */
export const SMALL_RING: PacketRing = { blockSize: 1 << 17, blockCount: 12, retireMs: 10 };

/**
 * An AF_PACKET socket in the calling thread's network namespace, capturing every frame of every interface there
 * from the moment this returns: with the loopback filter, and a TPACKET_V3 receive ring (the kernel writes each
 * frame and its receive time into shared memory, so reading costs no system call per frame, and the ring's size
 * is not capped by net.core.rmem_max). capture-worker.mjs maps the ring and reads it.
 */
export function openPacketSocket(ring: PacketRing = RING): number {
  // protocol 0: nothing is queued until bind(), after the filter and the ring are in place
  const fd = check('socket(AF_PACKET)', libc().socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  try {
    const filter = FILTER.map(([code, jt, jf, k]) => ({ code, jt, jf, k: k >>> 0 }));
    check('setsockopt(SO_ATTACH_FILTER)', libc().attachFilter(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: filter.length, filter }, 16));
    const version = Buffer.alloc(4);
    version.writeInt32LE(TPACKET_V3, 0);
    check('setsockopt(PACKET_VERSION)', libc().setsockopt(fd, SOL_PACKET, PACKET_VERSION, version, 4));
    // struct tpacket_req3 { block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word }
    const req = Buffer.alloc(28);
    const frameSize = 2048;
    [ring.blockSize, ring.blockCount, frameSize, (ring.blockSize / frameSize) * ring.blockCount, ring.retireMs, 0, 0].forEach((v, i) => req.writeUInt32LE(v, i * 4));
    check('setsockopt(PACKET_RX_RING)', libc().setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, 28));
    // struct sockaddr_ll { family, protocol (network order), ifindex 0 = every interface, ... }
    const ll = Buffer.alloc(20);
    ll.writeUInt16LE(AF_PACKET, 0);
    ll.writeUInt16BE(ETH_P_ALL, 2);
    check('bind(AF_PACKET)', libc().bind(fd, ll, 20));
    return fd;
  } catch (err) {
    libc().close(fd);
    throw err;
  }
}

export function closePacketSocket(fd: number): void {
  libc().close(fd);
}
