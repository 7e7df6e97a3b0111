// Rootless packet capture, one pcap per host (network namespace) of a lab. Debian's tcpdump cannot run inside
// `unshare --user --map-root-user` (it drops privileges to its own user, and setgroups is denied there), but the
// namespace's root may open an AF_PACKET socket: so the harness captures by itself. The socket is opened in the
// namespace before the lab sends anything (frames are kept from that moment, in a receive ring the kernel shares
// with us), a worker thread copies them into classic pcap, and stop() drains the ring after the lab's teardown,
// so the capture spans the whole lab.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { openPacketSocket, RING, SMALL_RING } from './packet-socket.ts';

/** One host's capture as stored in result.json (`captures`). */
export interface CaptureRecord {
  /** the host (namespace) captured, as snapshots and events name it */
  host: string;
  /** other names the lab gave the same namespace (the runner's own namespace may be "sandbox" and "server") */
  aliases?: string[];
  /** pcap file name, beside result.json */
  file: string;
  frames: number;
  /** bytes on the wire (frame lengths, before any truncation to the snap length) */
  bytes: number;
  /** frames the kernel could not queue for the capture (socket buffer full): the pcap lacks them */
  drops: number;
  /** epoch µs of the lab's time zero (snapshot and event `atMs` are counted from it) */
  timeZeroUs: number;
  /** epoch µs of the first and last frame */
  firstUs?: number;
  lastUs?: number;
  /** set when the reader failed part-way (what was read before is in the file) */
  error?: string;
}

interface WorkerReport {
  frames: number;
  bytes: number;
  drops: number;
  firstUs: number;
  lastUs: number;
  error: string;
}

const SNAPLEN = 262144;
/** a reader that has not reported by then is ended, and the lab goes on without its figures */
const STOP_TIMEOUT_MS = 5000;
const WORKER = new URL('./capture-worker.mjs', import.meta.url);

function fileSafe(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'host';
}

let warm: Worker | undefined;

/** A reader thread, started (and its koffi loaded) but waiting for sockets to read. */
function startReader(): Worker {
  const w = new Worker(WORKER, { execArgv: [] });
  w.unref(); // an idle reader never keeps the process alive
  return w;
}

/**
 * Start the reader thread ahead of the lab (the runner calls this before it loads the lab's module), so the first
 * capture does not wait ~100 ms for a thread to start while the lab runs beside it.
 */
export function prewarmCapture(): void {
  warm ??= startReader();
}

function takeReader(): Worker {
  const w = warm ?? startReader();
  warm = undefined;
  w.ref();
  return w;
}

/** The captures of one lab run; disabled (every call a no-op) when there is no folder to write to. */
export class CaptureSet {
  private readonly records: CaptureRecord[] = [];
  private reader?: { worker: Worker; done: Promise<Record<string, WorkerReport>> };
  private failed = false;
  private syncs = 0;

  /**
   * @param dir folder for the pcap files (undefined: capture off)
   * @param timeZeroMs epoch ms of the lab's time zero
   * @param notice called once when capture is impossible here, with the reason
   */
  constructor(
    private readonly dir: string | undefined,
    private readonly timeZeroMs: number,
    private readonly notice: (text: string) => void,
  ) {}

  get enabled(): boolean {
    return this.dir !== undefined && !this.failed;
  }

  /**
   * Start capturing the namespace `within` runs code in (default: the calling thread's own). The first namespace
   * gets the large ring; the others (matrix labs make dozens, each with little traffic) a small one.
   */
  add(host: string, within: <T>(fn: () => T) => T = (fn) => fn()): void {
    if (!this.enabled) return;
    let fd: number;
    try {
      fd = within(() => openPacketSocket(this.records.length ? SMALL_RING : RING));
    } catch (err) {
      this.failed = true;
      this.notice(`no packet capture: ${err instanceof Error ? err.message : String(err)} (the lab runs without one)`);
      return;
    }
    const taken = new Set(this.records.map((r) => r.file));
    let file = `capture-${fileSafe(host)}.pcap`;
    for (let i = 2; taken.has(file); i++) file = `capture-${fileSafe(host)}-${i}.pcap`;
    this.reader ??= this.startReader();
    this.reader.worker.postMessage({ op: 'add', id: file, fd, file: path.join(this.dir!, file), snaplen: SNAPLEN, ring: this.records.length ? SMALL_RING : RING });
    this.records.push({ host, file, frames: 0, bytes: 0, drops: 0, timeZeroUs: this.timeZeroMs * 1000 });
  }

  private startReader(): { worker: Worker; done: Promise<Record<string, WorkerReport>> } {
    const worker = takeReader();
    const done = new Promise<Record<string, WorkerReport>>((resolve) => {
      worker.on('message', (m: { op: string; reports: Record<string, WorkerReport> }) => m.op === 'report' && resolve(m.reports));
      const failed = (error: string) => resolve(Object.fromEntries(this.records.map((r) => [r.file, { frames: 0, bytes: 0, drops: 0, firstUs: 0, lastUs: 0, error }])));
      worker.once('error', (err) => failed(err.message));
      worker.once('exit', (code) => failed(`reader exited with code ${code}`));
    });
    return { worker, done };
  }

  /**
   * The pcap file of a host (by its name or an alias), complete up to now: the reader first writes out every frame
   * the kernel has received. Undefined when the host is not captured (capture off, or refused here).
   */
  async fileOf(host: string): Promise<string | undefined> {
    const r = this.records.find((x) => x.host === host || x.aliases?.includes(host));
    if (!r || !this.reader) return undefined;
    const seq = ++this.syncs;
    const worker = this.reader.worker;
    await new Promise<void>((resolve) => {
      const on = (m: { op: string; seq?: number }) => {
        if (m.op === 'synced' && m.seq === seq) {
          worker.off('message', on);
          resolve();
        }
      };
      worker.on('message', on);
      worker.postMessage({ op: 'sync', seq });
    });
    return path.join(this.dir!, r.file);
  }

  /** Record that the lab calls an already captured namespace by another name too. */
  alias(host: string, alias: string): void {
    const r = this.records.find((x) => x.host === host);
    if (r && alias !== host && !r.aliases?.includes(alias)) r.aliases = [...(r.aliases ?? []), alias];
  }

  /** Stop every capture (after draining what the kernel still holds) and return their records. */
  async stop(): Promise<CaptureRecord[]> {
    if (!this.reader) return [];
    this.reader.worker.postMessage({ op: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<Record<string, WorkerReport>>((resolve) => {
      timer = setTimeout(() => resolve({}), STOP_TIMEOUT_MS);
    });
    const reports = await Promise.race([this.reader.done, silent]);
    clearTimeout(timer);
    await this.reader.worker.terminate();
    this.reader = undefined;
    return this.records.map((r) => {
      const rep = reports[r.file] ?? { frames: 0, bytes: 0, drops: 0, firstUs: 0, lastUs: 0, error: `the capture's reader did not report within ${STOP_TIMEOUT_MS / 1000} s (the file holds what it wrote)` };
      return {
        ...r,
        frames: rep.frames,
        bytes: rep.bytes,
        drops: rep.drops,
        ...(rep.frames ? { firstUs: rep.firstUs, lastUs: rep.lastUs } : {}),
        ...(rep.error ? { error: rep.error } : {}),
      };
    });
  }
}
