// The result contract (results/<run-id>/<lab>/result.json): plain JSON-serialisable data only.
// Documented in results/README.md and harness/result.schema.json; scripts and tests read it.
import type { SockRecord, SsState } from './ss.ts';
import type { SockFilter } from './census.ts';
import type { CaptureRecord } from '../kernel/capture.ts';

export type { CaptureRecord };

export type Verdict = 'confirmed' | 'refuted' | 'partly' | 'inconclusive';
export type Outcome = 'ran' | 'skipped' | 'error';

/** One expectation a judge stated over the evidence, as graded (see harness/lab/judge.ts). */
export interface Check {
  /** what was measured: "bind without SO_REUSEADDR over TIME-WAIT" */
  what: string;
  /** the figure measured; absent when it was not observed */
  saw?: string | number | boolean;
  /** what the claim expects of it, in words */
  want: string;
  /** whether it met that; absent when not observed */
  ok?: boolean;
  /** part of the claim, a precondition of the experiment, or a condition the article does not state */
  role: 'part' | 'need' | 'caveat';
  /** why it was not observed / why a precondition failed */
  why?: string;
  unit?: string;
}

export interface ClaimResult {
  id: string;
  /** seed article file name */
  source: string;
  /** the claim in our own words */
  statement: string;
  verdict: Verdict;
  /** what the kernel did, in our words, with figures (written by the harness from the checks) */
  observed: string;
  /** the checks the verdict was graded from */
  checks?: Check[];
}

export interface SnapshotRecord {
  label: string;
  host: string;
  /** ms since the lab started */
  atMs: number;
  /** every socket ss printed; in a compact snapshot (one with `total`) only the ones that matter */
  sockets: SockRecord[];
  /** which sockets matter (the wait's filter or focus); result.json keeps it in compact snapshots only */
  focus?: SockFilter;
  /** compact snapshots (result.json, over COMPACT_OVER sockets): how many sockets ss printed */
  total?: number;
  /** compact snapshots: sockets per state over all `total` of them */
  counts?: Partial<Record<SsState, number>>;
  /** compact snapshots: the file with every line, relative to result.json (snapshots/NN-host-label.txt) */
  file?: string;
}

export interface EventRecord {
  atMs: number;
  host: string;
  /** step, errno, bind, kill, fault, sysctl, note ... */
  kind: string;
  detail: string;
  /** optional structured form of the detail, for scripts */
  data?: Record<string, unknown>;
}

/** One read of ss during a wait: socket counts per state (and timer ranges), for the state timeline. */
export interface SampleRecord {
  atMs: number;
  host: string;
  /** what the wait was for */
  wait: string;
  /** sockets per state as ss printed them (states with none are left out) */
  counts: Record<string, number>;
  /** per timer name (timewait, keepalive, on ...): the remaining time's range over the sockets that had one */
  timers?: Record<string, { minMs: number; maxMs: number; n: number }>;
}

/** A table of evidence (e.g. a matrix of variants) for the report and the writeup. */
export interface TableRecord {
  title: string;
  columns: string[];
  rows: string[][];
  note?: string;
}

/** Version of this contract; 2 added `evidence` and `claims[].checks`, 3 `setup`, `captures` and `samples`, 4 `ranOn` (see results/README.md). */
export const SCHEMA_VERSION = 4;

/** Where the kernel that ran a lab lives: the machine's own, or a guest under QEMU with KVM or emulated (TCG). */
export type RanOn = 'host' | 'kvm' | 'emulated';

export interface LabResult {
  schemaVersion: number;
  lab: string;
  title: string;
  /** what the lab does, in its own words (its definition's set-up text) */
  setup?: string;
  outcome: Outcome;
  reason?: string;
  kernel: string;
  /** the machine's own kernel, or a guest kernel under QEMU (kvm, or emulated by TCG: 5-20x slower) */
  ranOn: RanOn;
  startedAt: string;
  durationMs: number;
  /** sysctls set inside the lab's sandbox, as read back after setting */
  sysctls: Record<string, string>;
  /** the lab options the run used, after defaults */
  options: Record<string, unknown>;
  claims: ClaimResult[];
  snapshots: SnapshotRecord[];
  events: EventRecord[];
  tables: TableRecord[];
  /** one pcap per host (namespace), beside result.json; absent when the run had no capture (--no-capture) */
  captures?: CaptureRecord[];
  /** ss reads taken while the lab waited on the kernel (timers), for the state timeline */
  samples?: SampleRecord[];
  /** what the lab's run() returned: the typed evidence its judge graded (absent when run() did not finish) */
  evidence?: unknown;
}
