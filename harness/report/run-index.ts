// results/<run-id>/README.md: the run at a glance, for a writer: how it ended, the machine it ran on, and
// every lab and claim with its verdict, each linking to the lab's writeup. Rendered from what is on disk
// (harness/results/runs.ts loads a run folder and writes this file).
import type { ClaimResult, LabResult, Verdict } from '../evidence/records.ts';
import { brief, code, mdTable, shortSource } from './format.ts';
import { kernelMatrix, matrixMarkdown, spansKernels, type MatrixInput } from './kernel-matrix.ts';
import { byText } from '../order.ts';

/** The machine facts the index shows (the shape of results/machine.ts MachineFacts; every field optional). */
export interface MachineFactsView {
  kernel?: string;
  distribution?: string;
  node?: string;
  iproute2?: string;
  nft?: string;
  cpus?: { count: number; model?: string };
  sysctls?: Record<string, string>;
}

/** One lab folder of a run: its result when there is one, or what is wrong with it. */
export interface RunIndexLab {
  name: string;
  result?: Pick<LabResult, 'title' | 'outcome' | 'reason' | 'kernel' | 'claims'> & Partial<Pick<LabResult, 'lab' | 'ranOn'>>;
  /** why the lab has no readable result ("no result.json", "result.json is not valid JSON") */
  problem?: string;
  /** file names in the lab folder (writeup.md, capture-*.pcap, *.svg ...) */
  files: string[];
}

/** What the index is rendered from (results/runs.ts LoadedRun has this shape). */
export interface RunIndexInput {
  id: string;
  /** finished, interrupted, abandoned, running, or unknown (no run.json) */
  status: string;
  marker?: { args?: string[]; startedAt?: string; endedAt?: string; signal?: string; note?: string; machine?: MachineFactsView };
  labs: RunIndexLab[];
}

export const VERDICT_ORDER: readonly Verdict[] = ['confirmed', 'refuted', 'partly', 'inconclusive'];

/** "3 confirmed, 1 refuted, 1 inconclusive" (fixed order, zeros left out; "no claims" when there are none). */
export function verdictCounts(claims: readonly Pick<ClaimResult, 'verdict'>[]): string {
  const n = (v: Verdict) => claims.filter((c) => c.verdict === v).length;
  const parts = VERDICT_ORDER.filter((v) => n(v) > 0).map((v) => `${n(v)} ${v}`);
  const other = claims.filter((c) => !VERDICT_ORDER.includes(c.verdict)).length;
  if (other) parts.push(`${other} other`);
  return parts.join(', ') || 'no claims';
}

/** Problems worth a reader's attention: labs with no result, skipped or failed labs, a note on the run. */
export function runProblems(run: RunIndexInput): string[] {
  const out: string[] = [];
  for (const l of run.labs) {
    if (l.problem) out.push(`${l.name}: ${l.problem}`);
    else if (l.result && l.result.outcome !== 'ran') out.push(`${l.name}: ${l.result.outcome}${l.result.reason ? ` (${brief(l.result.reason)})` : ''}`);
  }
  if (run.status === 'abandoned') out.push('the CLI was killed before the run ended (its process is gone)');
  return out;
}

function machineSection(run: RunIndexInput): string {
  const m = run.marker?.machine;
  if (!m) {
    const kernels = [...new Set(run.labs.map((l) => l.result?.kernel).filter((k): k is string => !!k))];
    return `## Machine\n\nThis run's marker records no machine facts (made before they were recorded)${kernels.length ? `; the lab results give the kernel: ${kernels.join(', ')}` : ''}.\n`;
  }
  const rows: [string, string | undefined][] = [
    ['kernel', m.kernel],
    ['distribution', m.distribution],
    ['node', m.node],
    ['iproute2', m.iproute2],
    ['nftables', m.nft],
    ['CPUs', m.cpus ? `${m.cpus.count}${m.cpus.model ? ` × ${m.cpus.model}` : ''}` : undefined],
  ];
  const out = [`## Machine\n\n${mdTable(['fact', 'value'], rows.filter((r): r is [string, string] => r[1] !== undefined))}\n`];
  const sysctls = Object.entries(m.sysctls ?? {}).sort(([a], [b]) => byText(a, b));
  if (sysctls.length) out.push(`Kernel defaults a fresh network namespace gets (labs change some inside their own namespace; each writeup says which):\n\n${mdTable(['sysctl', 'default'], sysctls.map(([k, v]) => [k, v]))}\n`);
  return out.join('\n');
}

/** The run's README.md. Deterministic: the same folder renders the same text. */
export function renderRunIndex(run: RunIndexInput): string {
  const mk = run.marker;
  const out: string[] = [`# Run ${run.id}\n`];
  const head = [
    `- status: **${run.status}**${mk?.signal ? ` (stopped by ${mk.signal})` : ''}`,
    mk?.startedAt ? `- started: ${mk.startedAt}${mk.endedAt ? `, ended: ${mk.endedAt}` : ''}` : '',
    mk?.args?.length ? `- command: ${code(`npm run lab -- ${mk.args.join(' ')}`)}` : '',
    mk?.note ? `- note: ${mk.note}` : '',
    `- labs: ${run.labs.length}; verdicts: ${verdictCounts(run.labs.flatMap((l) => l.result?.claims ?? []))}`,
  ].filter(Boolean);
  out.push(head.join('\n') + '\n');
  const problems = runProblems(run);
  if (problems.length) out.push(`Problems:\n\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
  out.push(machineSection(run));
  out.push('## Labs\n');
  if (!run.labs.length) out.push('No lab wrote a result in this run.\n');
  else {
    out.push(
      mdTable(
        ['lab', 'title', 'outcome', 'verdicts', 'writeup', 'other files'],
        run.labs.map((l) => [
          l.name,
          l.result?.title ?? '—',
          l.result?.outcome ?? l.problem ?? '—',
          l.result ? verdictCounts(l.result.claims) : '—',
          l.files.includes('writeup.md') ? `[writeup.md](${encodeURI(l.name)}/writeup.md)` : '—',
          l.files.filter((f) => f !== 'writeup.md' && f !== 'result.json').sort().map((f) => `[${f}](${encodeURI(`${l.name}/${f}`)})`).join(', ') || '—',
        ]),
      ) + '\n',
    );
  }
  const claims = run.labs.flatMap((l) => (l.result?.claims ?? []).map((c) => [l.name, c.id, shortSource(c.source), `**${c.verdict}**`]));
  if (claims.length) out.push(`## Claims\n\n${mdTable(['lab', 'claim', 'article', 'verdict'], claims)}\n`);
  // a run on several kernels (--kernel): the same claims side by side, differing verdicts in bold with their figures
  const perKernel: MatrixInput[] = run.labs.flatMap((l) => (l.result ? [{ ...l.result, lab: l.result.lab ?? l.name.split('@')[0] }] : []));
  if (spansKernels(perKernel)) out.push(`## Verdicts by kernel\n\n${matrixMarkdown(kernelMatrix(perKernel))}`);
  return out.join('\n');
}
