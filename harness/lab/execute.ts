// Run one lab definition inside the current (sandboxed) process and turn whatever happened into a LabResult.
import { setTimeout as sleep } from 'node:timers/promises';
import { LabContext, type LabMessage } from './context.ts';
import { Interrupted, LabSkip } from '../errors.ts';
import { which } from '../kernel/exec.ts';
import { kernelName, ranOn } from '../evidence/identity.ts';
import type { Host } from '../kernel/host.ts';
import type { LabDefinition } from './define.ts';
import { judgeEvidence } from './verdicts.ts';
import { SCHEMA_VERSION, type LabResult, type Outcome } from '../evidence/records.ts';

/** How long an interrupted lab's run() may take to stop before its teardown runs anyway. */
const RUN_SETTLE_MS = 500;

/** Run `def` with validated options; teardown always runs; never throws (errors become outcome "error"). */
export async function executeLab(
  name: string,
  def: LabDefinition,
  options: Record<string, unknown>,
  host: Host,
  emit: (m: LabMessage) => void,
  signal: AbortSignal,
  captureDir?: string,
): Promise<LabResult> {
  const startedAt = new Date();
  const ctx = new LabContext(host, signal, emit, captureDir);
  ctx.captures.add(host.name); // before anything the lab does: the capture spans its first frame
  let outcome: Outcome = 'ran';
  let running: Promise<unknown> | undefined;
  let evidence: unknown;
  let finished = false;
  let reason: string | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new Interrupted(String(signal.reason ?? 'interrupted')));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (const need of def.needs) {
      if (!(await which(need.program))) throw new LabSkip(`${need.program} is not installed; install it with: ${need.install}`);
    }
    for (const [key, value] of Object.entries(def.sysctls)) await ctx.sysctl(key, value);
    running = def.run(ctx, options);
    // the judge sees exactly what result.json stores (plain data), so a stored run can be judged again
    const returned = await Promise.race([running, aborted]);
    evidence = returned === undefined ? undefined : JSON.parse(JSON.stringify(returned));
    finished = evidence !== undefined;
  } catch (err) {
    if (err instanceof LabSkip) {
      outcome = 'skipped';
      reason = err.message;
    } else {
      outcome = 'error';
      reason = err instanceof Error ? err.message : String(err);
    }
    ctx.event(outcome === 'skipped' ? 'skip' : 'error', reason);
  } finally {
    // interrupted: give run() a moment to notice (its waits watch the signal) so teardown does not race it
    if (signal.aborted && running) await Promise.race([running.catch(() => {}), sleep(RUN_SETTLE_MS)]);
    await ctx.runTeardown();
  }
  // after teardown, whose closes and resets are frames too
  const captures = captureDir === undefined ? undefined : await ctx.captures.stop();
  const why = outcome === 'skipped' ? `the lab was skipped (${reason})` : `the lab stopped before its evidence was complete (${reason})`;
  const claims = judgeEvidence(def, finished ? evidence : undefined, options, why);
  for (const claim of claims) emit({ type: 'verdict', claim });
  let tables = ctx.tables;
  if (finished) {
    try {
      tables = [...ctx.tables, ...def.tables(evidence, options)];
    } catch (err) {
      ctx.event('error', `tables: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    lab: name,
    title: def.title,
    setup: def.setup,
    outcome,
    ...(reason ? { reason } : {}),
    kernel: kernelName(),
    ranOn: ranOn(),
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    sysctls: ctx.sysctls,
    options,
    claims,
    snapshots: ctx.snapshots,
    events: ctx.events,
    tables,
    ...(captures ? { captures } : {}),
    ...(ctx.samples.length ? { samples: ctx.samples } : {}),
    ...(finished ? { evidence } : {}),
  };
}
