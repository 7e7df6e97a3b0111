// @ts-check
// The capture's reader thread: blocking reads from one packet socket (opened by packet-socket.ts in the
// namespace to capture), written as classic pcap (EN10MB, microseconds). Plain JavaScript so the thread starts
// in ~50 ms without a TypeScript loader. It stops when the main thread sets control[0] = 1, after draining what
// the socket still holds, and posts a CaptureWorkerReport (capture.ts).
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';

const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const SIOCGSTAMP = 0x8906;
const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;
const EAGAIN = 11;
const EINTR = 4;
const LINKTYPE_ETHERNET = 1;

const libc = koffi.load('libc.so.6');
const recv = libc.func('long recv(int fd, _Out_ uint8_t *buf, unsigned long len, int flags)');
const ioctl = libc.func('int ioctl(int fd, unsigned long request, _Out_ void *arg)');
const getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)');
const close = libc.func('int close(int fd)');

/** @param {{ fd: number; file: string; snaplen: number; control: SharedArrayBuffer }} data */
function capture(data) {
  const stop = new Int32Array(data.control);
  const out = openSync(data.file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  const frame = Buffer.alloc(data.snaplen);
  const tv = Buffer.alloc(16);
  const report = { frames: 0, bytes: 0, drops: 0, firstUs: 0, lastUs: 0, error: '' };
  let used = 0;
  const flush = () => {
    if (used) writeSync(out, chunk, 0, used);
    used = 0;
  };
  chunk.writeUInt32LE(0xa1b2c3d4, 0);
  chunk.writeUInt16LE(2, 4);
  chunk.writeUInt16LE(4, 6);
  chunk.writeUInt32LE(data.snaplen, 16);
  chunk.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  used = 24;
  /** one frame: its full length, or -1 when none came (timeout, or at once with MSG_DONTWAIT) */
  const read = (/** @type {number} */ flags) => {
    const n = Number(recv(data.fd, frame, frame.length, flags | MSG_TRUNC));
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno === EAGAIN || errno === EINTR) return -1;
    throw new Error(`recv on the packet socket failed: errno ${errno}`);
  };
  const take = (/** @type {number} */ len) => {
    if (ioctl(data.fd, SIOCGSTAMP, tv) < 0) throw new Error(`ioctl(SIOCGSTAMP) failed: errno ${koffi.errno()}`);
    const sec = Number(tv.readBigInt64LE(0));
    const usec = Number(tv.readBigInt64LE(8));
    const caplen = Math.min(len, data.snaplen);
    if (used + 16 + caplen > chunk.length) flush();
    chunk.writeUInt32LE(sec, used);
    chunk.writeUInt32LE(usec, used + 4);
    chunk.writeUInt32LE(caplen, used + 8);
    chunk.writeUInt32LE(len, used + 12);
    frame.copy(chunk, used + 16, 0, caplen);
    used += 16 + caplen;
    report.frames++;
    report.bytes += len;
    const us = sec * 1e6 + usec;
    if (!report.firstUs) report.firstUs = us;
    report.lastUs = us;
  };
  try {
    while (Atomics.load(stop, 0) === 0) {
      const n = read(0);
      if (n >= 0) take(n);
      else flush(); // idle: what was read so far reaches the file (a killed run keeps its capture)
    }
    for (let n = read(MSG_DONTWAIT); n >= 0; n = read(MSG_DONTWAIT)) take(n);
    const stats = Buffer.alloc(8);
    if (getsockopt(data.fd, SOL_PACKET, PACKET_STATISTICS, stats, [8]) === 0) report.drops = stats.readUInt32LE(4);
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
  } finally {
    flush();
    closeSync(out);
    close(data.fd);
  }
  return report;
}

parentPort?.postMessage(capture(workerData));
