// @ts-check
// The captures' reader thread: one per lab run, whatever the number of namespaces. For each packet socket
// (opened by packet-socket.ts in the namespace to capture) it maps the TPACKET_V3 receive ring and copies each
// block the kernel hands over into a classic pcap (EN10MB, microseconds): no system call per frame, one poll()
// over every socket when all rings are empty. Plain JavaScript so the thread starts in ~50 ms without a
// TypeScript loader. Messages from capture.ts: { op: 'add', id, fd, file, snaplen, ring }, { op: 'sync', seq }
// (answered with { op: 'synced', seq } once every frame received so far is in the files) and { op: 'stop' };
// it answers the stop with { op: 'report', reports: { [id]: report } } once every ring is drained.
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
const IDLE_POLL_MS = 5;

const libc = koffi.load('libc.so.6');
const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
const munmap = libc.func('int munmap(void *addr, size_t length)');
const poll = libc.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)');
const getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)');
const close = libc.func('int close(int fd)');

/**
 * One socket's capture: its ring, its pcap file, what was read.
 * @param {{ id: string; fd: number; file: string; snaplen: number; ring: { blockSize: number; blockCount: number; retireMs: number } }} m
 */
function open(m) {
  const report = { frames: 0, bytes: 0, drops: 0, firstUs: 0, lastUs: 0, error: '' };
  const size = m.ring.blockSize * m.ring.blockCount;
  const base = mmap(null, size, PROT_READ_WRITE, MAP_SHARED, m.fd, 0);
  if (koffi.address(base) === 0xffffffffffffffffn) {
    close(m.fd);
    return { m, report: { ...report, error: `mmap of the capture ring failed: errno ${koffi.errno()}` }, done: true };
  }
  const out = openSync(m.file, 'w');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(m.snaplen, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  writeSync(out, header);
  return { m, report, done: false, base, size, mem: Buffer.from(koffi.view(base, size)), out, chunk: Buffer.alloc(1 << 18), used: 0, block: 0 };
}

/** @param {any} c */
function flush(c) {
  if (c.used) writeSync(c.out, c.chunk, 0, c.used);
  c.used = 0;
}

/** Copy one block's frames into the pcap and give the block back to the kernel. @param {any} c @param {number} at */
function takeBlock(c, at) {
  const { mem, m, report } = c;
  // struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1 { block_status, num_pkts, offset_to_first_pkt ... }
  const count = mem.readUInt32LE(at + 12);
  let pkt = at + mem.readUInt32LE(at + 16);
  for (let i = 0; i < count; i++) {
    // struct tpacket3_hdr { next_offset, sec, nsec, snaplen, len, status, mac (u16), net (u16) ... }
    const next = mem.readUInt32LE(pkt);
    const sec = mem.readUInt32LE(pkt + 4);
    const usec = Math.floor(mem.readUInt32LE(pkt + 8) / 1000);
    const caplen = Math.min(mem.readUInt32LE(pkt + 12), m.snaplen);
    const len = mem.readUInt32LE(pkt + 16);
    const mac = mem.readUInt16LE(pkt + 24);
    if (c.used + 16 + caplen > c.chunk.length) flush(c);
    if (16 + caplen > c.chunk.length) c.chunk = Buffer.alloc(16 + caplen);
    c.chunk.writeUInt32LE(sec, c.used);
    c.chunk.writeUInt32LE(usec, c.used + 4);
    c.chunk.writeUInt32LE(caplen, c.used + 8);
    c.chunk.writeUInt32LE(len, c.used + 12);
    mem.copy(c.chunk, c.used + 16, pkt + mac, pkt + mac + caplen);
    c.used += 16 + caplen;
    report.frames++;
    report.bytes += len;
    const us = sec * 1e6 + usec;
    if (!report.firstUs) report.firstUs = us;
    report.lastUs = us;
    pkt += next;
  }
  mem.writeUInt32LE(TP_STATUS_KERNEL, at + 8);
}

/** Take every ready block of one capture, in ring order; true when there was one. @param {any} c */
function drain(c) {
  let any = false;
  const { blockSize, blockCount } = c.m.ring;
  while (c.mem.readUInt32LE(c.block * blockSize + 8) & TP_STATUS_USER) {
    takeBlock(c, c.block * blockSize);
    c.block = (c.block + 1) % blockCount;
    any = true;
  }
  return any;
}

/** Take what the kernel holds now, the block it is filling included (it hands that over within retireMs). @param {any} c */
function settle(c) {
  const { blockSize, retireMs } = c.m.ring;
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(c.m.fd, 0);
  pfd.writeInt16LE(POLLIN | POLLERR, 4);
  const deadline = Date.now() + 20 * retireMs;
  while (c.mem.readUInt32LE(c.block * blockSize + 12) > 0 && Date.now() < deadline) {
    if (!drain(c)) poll(pfd, 1, retireMs);
  }
  drain(c);
  flush(c);
}

/** @param {any} c */
function finish(c) {
  settle(c);
  const stats = Buffer.alloc(12);
  if (getsockopt(c.m.fd, SOL_PACKET, PACKET_STATISTICS, stats, [12]) === 0) c.report.drops = stats.readUInt32LE(4);
}

/** @param {any} c */
function release(c) {
  flush(c);
  closeSync(c.out);
  munmap(c.base, c.size);
  close(c.m.fd);
  c.done = true;
}

/** @type {any[]} */
const captures = [];
let stopping = false;
let looping = false;

async function loop() {
  looping = true;
  while (!stopping) {
    let any = false;
    for (const c of captures) {
      if (c.done) continue;
      try {
        if (drain(c)) any = true;
      } catch (err) {
        c.report.error = err instanceof Error ? err.message : String(err);
        release(c);
      }
    }
    const live = captures.filter((c) => !c.done);
    if (!any && live.length) {
      for (const c of live) flush(c); // idle: what was read reaches the file (a killed run keeps its capture)
      const pfds = Buffer.alloc(8 * live.length);
      live.forEach((c, i) => {
        pfds.writeInt32LE(c.m.fd, i * 8);
        pfds.writeInt16LE(POLLIN | POLLERR, i * 8 + 4);
      });
      poll(pfds, live.length, IDLE_POLL_MS);
    }
    await new Promise((r) => setImmediate(r)); // let 'add' and 'stop' messages in
  }
  looping = false;
}

parentPort?.on('message', (/** @type {any} */ msg) => {
  if (msg.op === 'add') {
    captures.push(open(msg));
    if (!looping) void loop();
  } else if (msg.op === 'sync') {
    // a lab reads its own capture mid-run: everything received so far must be in the files
    for (const c of captures) if (!c.done) settle(c);
    parentPort?.postMessage({ op: 'synced', seq: msg.seq });
  } else if (msg.op === 'stop') {
    stopping = true;
    /** @type {Record<string, unknown>} */
    const reports = {};
    for (const c of captures) {
      if (!c.done) {
        try {
          finish(c);
        } catch (err) {
          c.report.error = err instanceof Error ? err.message : String(err);
        }
        release(c);
      }
      reports[c.m.id] = { ...c.report };
    }
    parentPort?.postMessage({ op: 'report', reports });
  }
});
