// The object a lab's run() receives: record steps, events, snapshots, verdicts and tables; wait on ss;
// set sysctls inside the sandbox; register teardown. Everything recorded is plain data in the result.
import type { SockFilter } from '../evidence/census.ts';
import type { Host } from '../kernel/host.ts';
import { readSockets } from '../evidence/read.ts';
import type { ClaimResult, EventRecord, SampleRecord, SnapshotRecord, TableRecord } from '../evidence/records.ts';
import type { Recorder } from '../kernel/recorder.ts';
import { counterDelta, formatDelta, readCounters, RESET_COUNTERS, type Counters } from '../kernel/counters.ts';
import { runCells, type Axes, type CellOf, type CellResult, type MatrixOptions } from './matrix.ts';
import type { SockRecord, SsState } from '../evidence/ss.ts';
import { setUpSysctl } from '../kernel/sysctl.ts';
import { waitForSockets, waitSs, type WaitSink, type WaitSocketsOptions, type WaitSsOptions } from './waits.ts';
import { CaptureSet } from '../kernel/capture.ts';
import { readFile } from 'node:fs/promises';
import { readPcap } from '../evidence/packets-pcap.ts';
import { decodeTcp, type Segment } from '../evidence/packets-decode.ts';
import { sampleWhile, type SampleWhileOptions } from './sampling.ts';

export type { WaitSocketsOptions, WaitSsOptions };

/** Messages a running lab sends to whoever shows its progress (the CLI, a test). */
export type LabMessage =
  | { type: 'event'; event: EventRecord }
  | { type: 'snapshot'; snapshot: SnapshotRecord; focus?: SockFilter; census?: Partial<Record<SsState, number>>; matched?: number }
  | { type: 'progress'; text: string }
  | { type: 'verdict'; claim: ClaimResult };

export interface SnapshotOptions {
  host?: Host;
  /** which sockets matter: for the live report, and what result.json keeps of a large snapshot (all are recorded) */
  focus?: SockFilter;
  /** also ask ss for the owning processes (-p) */
  processes?: boolean;
}

/** First port ctx.port() hands out; every lab has its own namespace, so nothing else is on these ports. */
const FIRST_PORT = 20000;

export class LabContext implements Recorder {
  readonly events: EventRecord[] = [];
  readonly snapshots: SnapshotRecord[] = [];
  readonly tables: TableRecord[] = [];
  /** ss reads during waits that show progress (the kernel-timer waits), for the state timeline */
  readonly samples: SampleRecord[] = [];
  readonly sysctls: Record<string, string> = {};
  private readonly teardown: (() => unknown)[] = [];
  /** epoch ms of the lab's time zero: every atMs counts from here */
  readonly t0 = Date.now();
  private nextPort = FIRST_PORT;
  /** packet captures (one per namespace); off unless the run was given a folder for them */
  readonly captures: CaptureSet;

  constructor(
    readonly host: Host,
    readonly signal: AbortSignal,
    private readonly emit: (m: LabMessage) => void,
    captureDir?: string,
  ) {
    this.captures = new CaptureSet(captureDir, this.t0, (text) => this.event('capture', text));
  }

  /** A fresh port for one use (a listener, a matrix cell): no lab needs a --port option. */
  port(): number {
    return this.nextPort++;
  }

  /** Run a block between two readings of the namespace's TCP counters; record and return what moved. */
  async counters<T>(label: string, fn: () => Promise<T>, names: readonly string[] = RESET_COUNTERS): Promise<{ value: T; delta: Counters }> {
    const before = await readCounters();
    const value = await fn();
    const delta = counterDelta(before, await readCounters(), names);
    this.event('counters', `${label}: ${formatDelta(delta)}`, { label, ...delta });
    return { value, delta };
  }

  /**
   * Run one experiment per cell of the axes (every combination), serially or concurrently (each cell then
   * needs its own ports). A cell whose set-up times out is recorded with its error and no evidence: missing
   * evidence for the judge, not a failed lab.
   */
  matrix<A extends Axes, R>(axes: A, fn: (cell: CellOf<A>) => Promise<R>, o: MatrixOptions = {}): Promise<CellResult<A, R>[]> {
    return runCells(axes, fn, { ...o, onError: (cell, message) => this.event('cell-error', `${JSON.stringify(cell)}: ${message}`, { cell, message }) });
  }

  /** Milliseconds since the lab started. */
  elapsedMs(): number {
    return Date.now() - this.t0;
  }

  /** Record an event (errno seen, kill, fault rule, step marker) and show it. */
  event(kind: string, detail: string, data?: Record<string, unknown>, host: Host = this.host): EventRecord {
    const ev: EventRecord = { atMs: this.elapsedMs(), host: host.name, kind, detail, ...(data ? { data } : {}) };
    this.events.push(ev);
    this.emit({ type: 'event', event: ev });
    return ev;
  }

  /** Mark the start of a step of the experiment. */
  step(title: string): void {
    this.event('step', title);
  }

  /** A remark worth keeping in the story (not a measurement). */
  note(text: string): void {
    this.event('note', text);
  }

  /** A transient progress line (countdowns); not recorded. */
  progress(text: string): void {
    this.emit({ type: 'progress', text });
  }

  /** Take and record a named `ss -tanoH` snapshot of a host. */
  async snapshot(label: string, o: SnapshotOptions = {}): Promise<SnapshotRecord> {
    const host = o.host ?? this.host;
    const sockets = await readSockets(host, { processes: o.processes });
    return this.recordSnapshot(label, host, sockets, o.focus);
  }

  private recordSnapshot(label: string, host: Host, sockets: SockRecord[], focus?: SockFilter): SnapshotRecord {
    const snap: SnapshotRecord = { label, host: host.name, atMs: this.elapsedMs(), sockets, ...(focus ? { focus } : {}) };
    this.snapshots.push(snap);
    this.emit({ type: 'snapshot', snapshot: snap, ...(focus ? { focus } : {}) });
    return snap;
  }

  /** What the ss waits (waits.ts) record through. */
  private get sink(): WaitSink {
    return {
      host: this.host,
      signal: this.signal,
      now: () => this.elapsedMs(),
      sample: (s) => this.samples.push(s),
      progress: (text) => this.progress(text),
      record: (label, host, sockets, focus) => this.recordSnapshot(label, host, sockets, focus),
    };
  }

  /**
   * The one ss poll: read ss until `ready(sockets)` holds, then return that very read as a snapshot
   * (recorded in the result when labelled). With `filter`, polls read only those sockets (waits.ts).
   * Throws WaitTimeout naming `what` and the last read.
   */
  waitSs(what: string, ready: (sockets: SockRecord[]) => boolean, o: WaitSsOptions = {}): Promise<SnapshotRecord> {
    return waitSs(this.sink, what, ready, o);
  }

  /** Poll ss until at least `count` sockets match the filter (reading only those); returns them (and records a snapshot if labelled). */
  waitForSockets(what: string, filter: SockFilter, o: WaitSocketsOptions = {}): Promise<SockRecord[]> {
    return waitForSockets(this.sink, what, filter, o);
  }

  /**
   * Run `fn` while reading ss on the given hosts (default: the lab's own) every `everyMs` (default 200), for the
   * state timeline: how sockets pile up or drain while the lab churns connections or waits on a kernel timeout.
   */
  sampleWhile<T>(what: string, fn: () => Promise<T>, o: SampleWhileOptions = {}): Promise<T> {
    return sampleWhile(what, fn, { hosts: [this.host], ...o }, {
      signal: this.signal,
      now: () => this.elapsedMs(),
      push: (s) => this.samples.push(s),
    });
  }

  /**
   * The TCP segments captured on a host so far (its pcap, complete up to this call), each with `atMs` on the lab's
   * clock; undefined when the run has no capture (--no-capture, or the kernel refused one): evidence that needs
   * packets is then missing, and a judge reports the claim inconclusive.
   */
  async segments(host: Host = this.host): Promise<(Segment & { atMs: number })[] | undefined> {
    const file = await this.captures.fileOf(host.name);
    if (!file) return undefined;
    const pcap = readPcap(await readFile(file), { partial: true });
    return decodeTcp(pcap.frames, pcap.linktype).map((s) => ({ ...s, atMs: Math.round(s.tUs / 1000 - this.t0) }));
  }

  /** Add a table of evidence (e.g. a variant matrix) to the report and the writeup. */
  table(t: TableRecord): void {
    this.tables.push(t);
  }

  /** Register teardown; runs last-in first-out whether the lab passes, throws or is interrupted. */
  defer(fn: () => unknown): void {
    this.teardown.push(fn);
  }

  /** Run the registered teardown (errors are recorded, not thrown). */
  async runTeardown(): Promise<void> {
    while (this.teardown.length) {
      const fn = this.teardown.pop()!;
      try {
        await fn();
      } catch (err) {
        this.event('teardown-error', err instanceof Error ? err.message : String(err));
      }
    }
  }

  /** Set a sysctl inside this lab's own network namespace and record the value read back. */
  async sysctl(name: string, value: string): Promise<string> {
    const read = setUpSysctl(name, value);
    this.sysctls[name] = read;
    this.event('sysctl', `${name} = ${read}`, { name, value: read });
    return read;
  }
}
