// @ts-check
// The capture's reader thread. It maps the TPACKET_V3 receive ring of one packet socket (opened by
// packet-socket.ts in the namespace to capture) and copies each block the kernel hands over into a classic pcap
// (EN10MB, microseconds): no system call per frame. Plain JavaScript so the thread starts in ~50 ms without a
// TypeScript loader. It stops when the main thread sets control[0] = 1, after the kernel has handed over the
// frames still in its current block, and posts its report (capture.ts).
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import koffi from 'koffi';

const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;
const POLLIN = 1;
const POLLERR = 8;
const PROT_READ_WRITE = 3;
const MAP_SHARED = 1;
const TP_STATUS_USER = 1;
const TP_STATUS_KERNEL = 0;
const LINKTYPE_ETHERNET = 1;

const libc = koffi.load('libc.so.6');
const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
const munmap = libc.func('int munmap(void *addr, size_t length)');
const poll = libc.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)');
const getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)');
const close = libc.func('int close(int fd)');

/** @param {{ fd: number; file: string; snaplen: number; control: SharedArrayBuffer; ring: { blockSize: number; blockCount: number; retireMs: number } }} data */
function capture(data) {
  const { fd, ring } = data;
  const stop = new Int32Array(data.control);
  const report = { frames: 0, bytes: 0, drops: 0, firstUs: 0, lastUs: 0, error: '' };
  const size = ring.blockSize * ring.blockCount;
  const base = mmap(null, size, PROT_READ_WRITE, MAP_SHARED, fd, 0);
  if (koffi.address(base) === 0xffffffffffffffffn) {
    close(fd);
    return { ...report, error: `mmap of the capture ring failed: errno ${koffi.errno()}` };
  }
  const mem = Buffer.from(koffi.view(base, size));
  const out = openSync(data.file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(data.snaplen, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  writeSync(out, header);
  let used = 0;
  const flush = () => {
    if (used) writeSync(out, chunk, 0, used);
    used = 0;
  };
  /** copy one block's frames into the pcap and give the block back to the kernel */
  const takeBlock = (/** @type {number} */ at) => {
    // struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1 { block_status, num_pkts, offset_to_first_pkt ... }
    const count = mem.readUInt32LE(at + 12);
    let pkt = at + mem.readUInt32LE(at + 16);
    for (let i = 0; i < count; i++) {
      // struct tpacket3_hdr { next_offset, sec, nsec, snaplen, len, status, mac (u16), net (u16) ... }
      const next = mem.readUInt32LE(pkt);
      const sec = mem.readUInt32LE(pkt + 4);
      const usec = Math.floor(mem.readUInt32LE(pkt + 8) / 1000);
      const caplen = Math.min(mem.readUInt32LE(pkt + 12), data.snaplen);
      const len = mem.readUInt32LE(pkt + 16);
      const mac = mem.readUInt16LE(pkt + 24);
      if (used + 16 + caplen > chunk.length) flush();
      chunk.writeUInt32LE(sec, used);
      chunk.writeUInt32LE(usec, used + 4);
      chunk.writeUInt32LE(caplen, used + 8);
      chunk.writeUInt32LE(len, used + 12);
      mem.copy(chunk, used + 16, pkt + mac, pkt + mac + caplen);
      used += 16 + caplen;
      report.frames++;
      report.bytes += len;
      const us = sec * 1e6 + usec;
      if (!report.firstUs) report.firstUs = us;
      report.lastUs = us;
      pkt += next;
    }
    mem.writeUInt32LE(TP_STATUS_KERNEL, at + 8);
  };
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN | POLLERR, 4);
  let block = 0;
  /** hand over every ready block in order; true when at least one was */
  const drain = () => {
    let any = false;
    while (mem.readUInt32LE(block * ring.blockSize + 8) & TP_STATUS_USER) {
      takeBlock(block * ring.blockSize);
      block = (block + 1) % ring.blockCount;
      any = true;
    }
    return any;
  };
  try {
    while (Atomics.load(stop, 0) === 0) {
      if (!drain()) {
        flush(); // idle: what was read so far reaches the file (a killed run keeps its capture)
        poll(pfd, 1, 5); // short: a stop is noticed within 5 ms
      }
    }
    // the block the kernel is filling counts its frames as they arrive; it hands it over within retireMs
    const deadline = Date.now() + 20 * ring.retireMs;
    while (mem.readUInt32LE(block * ring.blockSize + 12) > 0 && Date.now() < deadline) {
      if (!drain()) poll(pfd, 1, ring.retireMs);
    }
    drain();
    const stats = Buffer.alloc(12);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, stats, [12]) === 0) report.drops = stats.readUInt32LE(4);
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
  } finally {
    flush();
    closeSync(out);
    munmap(base, size);
    close(fd);
  }
  return report;
}

// started ahead of the lab, the thread waits for the socket to read (capture.ts prewarmCapture)
parentPort?.once('message', (data) => parentPort?.postMessage(capture(data)));
