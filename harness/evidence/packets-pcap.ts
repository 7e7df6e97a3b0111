// Classic pcap files (not pcapng): read one whole file from a Buffer, and write the header and records of
// one (little-endian, microsecond timestamps). Pure: no files are opened here.
//
// Layout: a 24-byte global header (magic, version 2.4, thiszone, sigfigs, snaplen, link type), then per
// frame a 16-byte record header (seconds, micro- or nanoseconds, captured length, original length) and the
// captured bytes. The magic says both the byte order and the timestamp resolution.

/** Link types decodeTcp understands (LINKTYPE_* numbers of the pcap file format). */
export const LINKTYPE = { ETHERNET: 1, RAW: 101, LINUX_SLL: 113, LINUX_SLL2: 276 } as const;

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_MAGIC = 0x0a0d0d0a;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Largest captured length we believe in; bigger means a corrupt record (libpcap caps at 256 KiB too). */
const MAX_CAPLEN = 0x40000;

export interface PcapFrame {
  /** capture time, microseconds since the epoch (nanosecond files are truncated to µs) */
  tsUs: number;
  /** bytes captured (data.length) */
  caplen: number;
  /** length of the frame on the wire */
  len: number;
  data: Buffer;
}

export interface PcapFile {
  linktype: number;
  snaplen: number;
  frames: PcapFrame[];
  /** with { partial: true }: why the file ends early (a run killed mid-write), when it does */
  cut?: string;
}

/**
 * Parse a classic pcap file (either byte order, µs or ns magic); throws an Error saying what is wrong. With
 * `partial`, a file whose last record is cut off (its writer was killed) gives the whole records before it and
 * says so in `cut`.
 */
export function readPcap(buf: Buffer, o: { partial?: boolean } = {}): PcapFile {
  if (buf.length < GLOBAL_HEADER) throw new Error(`not a pcap file: ${buf.length} bytes, shorter than the 24-byte pcap header`);
  let le: boolean;
  let nano: boolean;
  const magicLe = buf.readUInt32LE(0);
  const magicBe = buf.readUInt32BE(0);
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) [le, nano] = [true, magicLe === PCAP_MAGIC_NS];
  else if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) [le, nano] = [false, magicBe === PCAP_MAGIC_NS];
  else if (magicLe === PCAPNG_MAGIC) throw new Error('not a classic pcap file: it is pcapng (convert it with: editcap -F pcap in.pcapng out.pcap)');
  else throw new Error(`not a pcap file: magic 0x${magicBe.toString(16).padStart(8, '0')} is not 0xa1b2c3d4 or 0xa1b23c4d`);
  const u16 = (at: number) => (le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const major = u16(4);
  if (major !== 2) throw new Error(`unsupported pcap version ${major}.${u16(6)} (expected 2.4)`);
  const snaplen = u32(16);
  // the low 16 bits are the link type; the high bits may carry FCS information
  const linktype = u32(20) & 0xffff;
  const frames: PcapFrame[] = [];
  let at = GLOBAL_HEADER;
  while (at < buf.length) {
    const n = frames.length + 1;
    if (buf.length - at < RECORD_HEADER) {
      const why = `truncated pcap: record ${n} header at byte ${at} is cut off (${buf.length - at} of 16 bytes)`;
      if (o.partial) return { linktype, snaplen, frames, cut: why };
      throw new Error(why);
    }
    const sec = u32(at);
    const frac = u32(at + 4);
    const caplen = u32(at + 8);
    const len = u32(at + 12);
    if (caplen > MAX_CAPLEN) throw new Error(`corrupt pcap: record ${n} at byte ${at} claims ${caplen} captured bytes`);
    if (frac >= (nano ? 1e9 : 1e6)) throw new Error(`corrupt pcap: record ${n} at byte ${at} has a fraction of a second of ${frac}`);
    const start = at + RECORD_HEADER;
    if (start + caplen > buf.length) {
      const why = `truncated pcap: record ${n} at byte ${at} needs ${caplen} bytes, the file has ${buf.length - start}`;
      if (o.partial) return { linktype, snaplen, frames, cut: why };
      throw new Error(why);
    }
    frames.push({ tsUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), caplen, len, data: buf.subarray(start, start + caplen) });
    at = start + caplen;
  }
  return { linktype, snaplen, frames };
}

function checkUint32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`pcap: ${what} must be an integer 0..2^32-1, got ${v}`);
}

/** The 24-byte global header of a little-endian, microsecond pcap file. */
export function pcapHeader(linktype: number, snaplen: number): Buffer {
  checkUint32('link type', linktype);
  checkUint32('snaplen', snaplen);
  const b = Buffer.alloc(GLOBAL_HEADER);
  b.writeUInt32LE(PCAP_MAGIC_US, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay 0
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linktype, 20);
  return b;
}

/** One record (16-byte header + data) for a file started with pcapHeader; origLen defaults to data.length. */
export function pcapRecord(tsUs: number, data: Buffer, origLen: number = data.length): Buffer {
  if (!Number.isSafeInteger(tsUs) || tsUs < 0) throw new Error(`pcap: timestamp must be whole microseconds >= 0, got ${tsUs}`);
  checkUint32('original length', origLen);
  if (origLen < data.length) throw new Error(`pcap: original length ${origLen} is less than the ${data.length} bytes captured`);
  const b = Buffer.alloc(RECORD_HEADER + data.length);
  b.writeUInt32LE(Math.floor(tsUs / 1e6), 0);
  b.writeUInt32LE(tsUs % 1e6, 4);
  b.writeUInt32LE(data.length, 8);
  b.writeUInt32LE(origLen, 12);
  data.copy(b, RECORD_HEADER);
  return b;
}
