// Hand-made TCP segments, sent from inside a lab's namespace through a raw IPv4 socket (the namespace's root may
// open one): how a lab puts an old duplicate, or a stray segment of a finished connection, on the wire. The
// segment is built here byte by byte (IPv4 header, TCP header with options, checksum over the pseudo-header), so
// it is exactly what the lab states; the capture records it like any other frame.
import koffi from 'koffi';
import { errnoName, libc } from './ffi.ts';

const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;

export interface RawSegment {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCP flags as letters: S, F, R, P, and . for ACK ("P.", "F.", ".") */
  flags: string;
  win?: number;
  /** timestamps option (kind 8), sent with two NOPs in front as Linux does */
  ts?: { val: number; ecr: number };
  payload?: Buffer;
}

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10 };

function ip4(addr: string): Buffer {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`raw segment: '${addr}' is not an IPv4 address`);
  return Buffer.from(parts);
}

/** The ones' complement sum of 16-bit words, folded (RFC 1071). */
function sum16(bufs: Buffer[]): number {
  let s = 0;
  for (const b of bufs) {
    for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
    if (b.length % 2) s += b[b.length - 1] << 8;
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** An IPv4 packet carrying the segment (pure: the bytes that go on the wire, checksums included). */
export function buildSegment(seg: RawSegment): Buffer {
  const payload = seg.payload ?? Buffer.alloc(0);
  const opts = seg.ts ? Buffer.alloc(12) : Buffer.alloc(0);
  if (seg.ts) {
    opts.writeUInt8(1, 0);
    opts.writeUInt8(1, 1);
    opts.writeUInt8(8, 2);
    opts.writeUInt8(10, 3);
    opts.writeUInt32BE(seg.ts.val >>> 0, 4);
    opts.writeUInt32BE(seg.ts.ecr >>> 0, 8);
  }
  const tcp = Buffer.alloc(20 + opts.length + payload.length);
  tcp.writeUInt16BE(seg.sport, 0);
  tcp.writeUInt16BE(seg.dport, 2);
  tcp.writeUInt32BE(seg.seq >>> 0, 4);
  tcp.writeUInt32BE(seg.ack >>> 0, 8);
  tcp.writeUInt8(((20 + opts.length) / 4) << 4, 12);
  let bits = 0;
  for (const ch of seg.flags) {
    if (!(ch in FLAG_BITS)) throw new Error(`raw segment: flag '${ch}' is not one of F S R P .`);
    bits |= FLAG_BITS[ch];
  }
  tcp.writeUInt8(bits, 13);
  tcp.writeUInt16BE(seg.win ?? 512, 14);
  opts.copy(tcp, 20);
  payload.copy(tcp, 20 + opts.length);
  const [src, dst] = [ip4(seg.src), ip4(seg.dst)];
  const pseudo = Buffer.concat([src, dst, Buffer.from([0, 6]), Buffer.from([tcp.length >> 8, tcp.length & 0xff])]);
  tcp.writeUInt16BE(~sum16([pseudo, tcp]) & 0xffff, 16);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + tcp.length, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip.writeUInt8(64, 8);
  ip.writeUInt8(6, 9);
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(~sum16([ip]) & 0xffff, 10);
  return Buffer.concat([ip, tcp]);
}

/** Send one hand-made segment from the calling thread's namespace (a raw socket, opened and closed for it). */
export function sendSegment(seg: RawSegment): void {
  const lib = libc();
  const packet = buildSegment(seg);
  const fd = lib.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW) as number;
  if (fd < 0) throw new Error(`socket(AF_INET, SOCK_RAW) failed: ${errnoName(koffi.errno())}`);
  try {
    const to = Buffer.alloc(16);
    to.writeUInt16LE(AF_INET, 0);
    ip4(seg.dst).copy(to, 4);
    const n = Number(lib.sendto(fd, packet, packet.length, 0, to, 16));
    if (n !== packet.length) throw new Error(`sendto on the raw socket failed: ${n < 0 ? errnoName(koffi.errno()) : `${n} of ${packet.length} bytes`}`);
  } finally {
    lib.close(fd);
  }
}
