// The result contract (results/<run-id>/<lab>/result.json): plain JSON-serialisable data only.
// Documented in results/README.md and harness/result.schema.json; scripts and tests read it.
import type { SockRecord } from './ss.ts';

export type Verdict = 'confirmed' | 'refuted' | 'partly' | 'inconclusive';
export type Outcome = 'ran' | 'skipped' | 'error';

export interface ClaimResult {
  id: string;
  /** seed article file name */
  source: string;
  /** the claim in our own words */
  statement: string;
  verdict: Verdict;
  /** what the kernel did, in our words, with figures */
  observed: string;
}

export interface SnapshotRecord {
  label: string;
  host: string;
  /** ms since the lab started */
  atMs: number;
  sockets: SockRecord[];
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

/** A table of evidence (e.g. a matrix of variants) for the report and the writeup. */
export interface TableRecord {
  title: string;
  columns: string[];
  rows: string[][];
  note?: string;
}

export interface LabResult {
  lab: string;
  title: string;
  outcome: Outcome;
  reason?: string;
  kernel: string;
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
}
