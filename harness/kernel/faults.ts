// Fault injection inside a lab's sandbox: drop (or just count) chosen TCP segments with nftables, by
// direction/port and by TCP flags. Rules are built as data (pure, unit-tested) and applied with `nft -f -`
// to a table of our own in the sandbox's network namespace; every install and lift is an event.
//
// Where the rules hook: the `input` hook. On loopback every segment passes `output` once (when sent) and
// `input` once (when received). Dropping at input is what loss on the wire looks like: the sender's stack
// sent the segment successfully, so it arms its retransmission timer as it would on a lossy path. Dropping
// at output instead makes the sender's own transmit call fail (NF_DROP → -EPERM in ip_local_out), a local
// error that is not what the labs want to show.
import type { Recorder } from './recorder.ts';
import { LabSkip } from '../errors.ts';
import { run, which } from './exec.ts';

export const FAULT_TABLE = 'tcplab';
export const FAULT_CHAIN = 'faults';
export const NFT_INSTALL = 'apt-get install -y nftables';

/**
 * Which segments a rule matches, by TCP flags:
 * - syn: SYN without ACK (a connect's first segment)
 * - syn-ack: SYN+ACK (the listener's answer)
 * - ack: ACK is the only control flag (no SYN/FIN/RST). Without per-connection state nft cannot tell one
 *   ACK from another, so "the handshake's last ACK" and "the ACK of a FIN" are this same match, aimed by
 *   direction and installed only while that segment is the next one expected. It also matches data
 *   segments (PSH+ACK); the labs send no data while such a rule is in place.
 * - handshake-ack, fin-ack: aliases of `ack` that record the intent in the events
 * - fin: any segment carrying FIN (FIN+ACK included)
 * - rst: any segment carrying RST
 * - all: every TCP segment
 */
export const SEGMENT_KINDS = ['syn', 'syn-ack', 'ack', 'handshake-ack', 'fin-ack', 'fin', 'rst', 'all'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

export interface FaultRule {
  /** which segments, by flags */
  kind: SegmentKind;
  /** only segments sent to this port (tcp dport): e.g. client → server when it is the server's port */
  toPort?: number;
  /** only segments sent from this port (tcp sport): e.g. server → client when it is the server's port */
  fromPort?: number;
  /** drop (default) or only count the matching segments */
  action?: 'drop' | 'count';
}

const FLAG_MATCH: Record<SegmentKind, string | undefined> = {
  syn: 'tcp flags & (fin|syn|rst|ack) == syn',
  'syn-ack': 'tcp flags & (syn|ack) == syn|ack',
  ack: 'tcp flags & (fin|syn|rst|ack) == ack',
  'handshake-ack': 'tcp flags & (fin|syn|rst|ack) == ack',
  'fin-ack': 'tcp flags & (fin|syn|rst|ack) == ack',
  fin: 'tcp flags & fin == fin',
  rst: 'tcp flags & rst == rst',
  all: undefined,
};

function checkPort(name: string, p: number | undefined): void {
  if (p !== undefined && !(Number.isInteger(p) && p >= 1 && p <= 65535)) {
    throw new Error(`fault rule: ${name} must be a port 1..65535, got ${p}`);
  }
}

/** The nft match + action of a rule, e.g. `tcp dport 9000 tcp flags & (fin|syn|rst|ack) == syn counter drop`. */
export function ruleExpression(rule: FaultRule): string {
  if (!SEGMENT_KINDS.includes(rule.kind)) throw new Error(`fault rule: kind '${rule.kind}' is not one of ${SEGMENT_KINDS.join(', ')}`);
  checkPort('toPort', rule.toPort);
  checkPort('fromPort', rule.fromPort);
  const parts = ['meta l4proto tcp'];
  if (rule.fromPort !== undefined) parts.push(`tcp sport ${rule.fromPort}`);
  if (rule.toPort !== undefined) parts.push(`tcp dport ${rule.toPort}`);
  const flags = FLAG_MATCH[rule.kind];
  if (flags) parts.push(flags);
  parts.push('counter');
  if ((rule.action ?? 'drop') === 'drop') parts.push('drop');
  return parts.join(' ');
}

/** One line for events and reports: "drop syn to :9000". */
export function describeRule(rule: FaultRule): string {
  const where = [rule.fromPort !== undefined ? `from :${rule.fromPort}` : '', rule.toPort !== undefined ? `to :${rule.toPort}` : ''].filter(Boolean).join(' ');
  return `${rule.action ?? 'drop'} ${rule.kind === 'all' ? 'every segment' : `${rule.kind} segments`}${where ? ` ${where}` : ''}`;
}

/** nft script that (re)creates our table with one empty chain on the input hook. */
export function setupScript(): string {
  return [
    `table inet ${FAULT_TABLE}`,
    `delete table inet ${FAULT_TABLE}`,
    `table inet ${FAULT_TABLE} {`,
    `  chain ${FAULT_CHAIN} {`,
    '    type filter hook input priority 0; policy accept;',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** nft script adding one rule, tagged with a comment so it can be found again (handle, counters). */
export function addRuleScript(rule: FaultRule, tag: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`fault rule: tag '${tag}' must be [A-Za-z0-9_-]+`);
  return `add rule inet ${FAULT_TABLE} ${FAULT_CHAIN} ${ruleExpression(rule)} comment "${tag}"\n`;
}

/** nft script deleting one rule by handle. */
export function deleteRuleScript(handle: number): string {
  return `delete rule inet ${FAULT_TABLE} ${FAULT_CHAIN} handle ${handle}\n`;
}

/**
 * nft JSON batch that lists our chain (tags, handles, counters: what parseChainListing reads) and then deletes the
 * given rules: a lift counts and removes in one nft run (nft is slow to start on a slow machine, ~3 s in an
 * emulated guest). The listing is taken before the deletions. Passed as nft's argument: nft opens /dev/stdin for
 * JSON input, which fails on the socket a Node child gets as its stdin.
 */
export function listAndDeleteBatch(handles: readonly number[]): string {
  const at = { family: 'inet', table: FAULT_TABLE, chain: FAULT_CHAIN };
  return JSON.stringify({ nftables: [{ list: { chain: { family: 'inet', table: FAULT_TABLE, name: FAULT_CHAIN } } }, ...handles.map((handle) => ({ delete: { rule: { ...at, handle } } }))] });
}

/** The handle of the rule with this tag in what `nft --echo --handle` printed when it added it. */
export function echoedHandle(out: string, tag: string): number | undefined {
  const line = out.split('\n').find((l) => l.includes(`comment "${tag}"`));
  const m = line === undefined ? null : /# handle (\d+)\s*$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** nft script removing our table (and every rule in it). */
export function teardownScript(): string {
  return `delete table inet ${FAULT_TABLE}\n`;
}

/** One installed rule: what it matches, its nft handle, and how to read its counter. */
export interface Fault {
  id: string;
  rule: FaultRule;
  expression: string;
  handle: number;
  /** false once lifted */
  active: boolean;
  /** segments matched when it was lifted */
  packetsAtLift?: number;
}

interface JsonRule {
  rule?: { comment?: string; handle?: number; expr?: { counter?: { packets: number; bytes: number } }[] };
}

/** Parse `nft -j list chain` output into tag → {handle, packets}. */
export function parseChainListing(json: string): Map<string, { handle: number; packets: number }> {
  const out = new Map<string, { handle: number; packets: number }>();
  const doc = JSON.parse(json) as { nftables?: JsonRule[] };
  for (const item of doc.nftables ?? []) {
    const r = item.rule;
    if (!r?.comment || r.handle === undefined) continue;
    const counter = r.expr?.find((e) => e.counter)?.counter;
    out.set(r.comment, { handle: r.handle, packets: counter?.packets ?? 0 });
  }
  return out;
}

/** The fault rules of one lab: install, count, lift, all recorded as `fault` events. */
export class Faults {
  private seq = 0;
  readonly installed: Fault[] = [];

  private constructor(private readonly ctx: Recorder) {}

  /** Create our nft table in the sandbox (LabSkip with the install command if nft is missing); removed at teardown. */
  static async open(ctx: Recorder): Promise<Faults> {
    if (!(await which('nft'))) throw new LabSkip(`nft (nftables) is not installed; install it with: ${NFT_INSTALL}`);
    await nft(setupScript());
    const f = new Faults(ctx);
    ctx.defer(() => f.close());
    ctx.event('fault', `nft table inet ${FAULT_TABLE}, chain ${FAULT_CHAIN} on the input hook (inside the sandbox only)`, { op: 'setup' });
    return f;
  }

  /** Install a rule (drop by default) and record it; nft echoes its handle (one nft run). */
  async add(rule: FaultRule, why?: string): Promise<Fault> {
    const id = `f${++this.seq}`;
    const expression = ruleExpression(rule);
    const echoed = echoedHandle(await run('nft', ['--echo', '--handle', '-f', '-'], { input: addRuleScript(rule, id) }), id);
    const handle = echoed ?? (await this.listing()).get(id)?.handle;
    if (handle === undefined) throw new Error(`fault rule ${id} was added but nft does not list it`);
    const fault: Fault = { id, rule, expression, handle, active: true };
    this.installed.push(fault);
    this.ctx.event('fault', `install ${id}: ${describeRule(rule)}${why ? ` (${why})` : ''}`, { op: 'install', id, ...rule, action: rule.action ?? 'drop', expression, handle });
    return fault;
  }

  /** Shorthand for add({ ...rule, action: 'drop' }). */
  drop(rule: Omit<FaultRule, 'action'>, why?: string): Promise<Fault> {
    return this.add({ ...rule, action: 'drop' }, why);
  }

  /** Shorthand for add({ ...rule, action: 'count' }): observe segments without touching them. */
  count(rule: Omit<FaultRule, 'action'>, why?: string): Promise<Fault> {
    return this.add({ ...rule, action: 'count' }, why);
  }

  /** How many segments a rule has matched so far (its final count once lifted). */
  async packets(fault: Fault): Promise<number> {
    if (!fault.active) return fault.packetsAtLift ?? 0;
    return (await this.listing()).get(fault.id)?.packets ?? 0;
  }

  /** Remove a rule mid-lab and record how many segments it matched. */
  async lift(fault: Fault, why?: string): Promise<number> {
    if (fault.active) await this.liftNow([fault], why);
    return fault.packetsAtLift ?? 0;
  }

  /** Lift every active rule (one nft run). */
  async liftAll(why?: string): Promise<void> {
    await this.liftNow(this.installed.filter((f) => f.active), why);
  }

  /** Lift what is left and delete the table (teardown; the namespace dies anyway). */
  async close(): Promise<void> {
    await this.liftAll('teardown');
    await nft(teardownScript());
  }

  /** Read the rules' counters and delete them in one nft batch; record each lift. */
  private async liftNow(faults: Fault[], why?: string): Promise<void> {
    if (!faults.length) return;
    const listed = parseChainListing(await run('nft', ['-j', listAndDeleteBatch(faults.map((f) => f.handle))]));
    for (const fault of faults) {
      const packets = listed.get(fault.id)?.packets ?? 0;
      fault.active = false;
      fault.packetsAtLift = packets;
      this.ctx.event('fault', `lift ${fault.id}: ${describeRule(fault.rule)} — it matched ${packets} segment(s)${why ? ` (${why})` : ''}`, { op: 'lift', id: fault.id, packets, handle: fault.handle });
    }
  }

  private async listing(): Promise<Map<string, { handle: number; packets: number }>> {
    return parseChainListing(await run('nft', ['-j', 'list', 'chain', 'inet', FAULT_TABLE, FAULT_CHAIN]));
  }
}

/** Apply an nft script inside the current (sandbox) namespace. */
async function nft(script: string): Promise<void> {
  await run('nft', ['-f', '-'], { input: script });
}
