// The pictures of a lab run, drawn from its evidence after the run: one packet ladder per captured host (from
// its pcap, with the states ss showed and the fault rules in force) and a state timeline from the samples its
// timer waits took. They are files beside result.json; a failure to draw one is reported, never fatal.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CaptureRecord, LabResult } from '../evidence/records.ts';
import { readPcap } from '../evidence/packets-pcap.ts';
import { decodeTcp } from '../evidence/packets-decode.ts';
import { renderLadder } from '../report/ladder.ts';
import { hasTimeline, renderTimeline } from '../report/timeline.ts';
import type { Diagram } from '../report/writeup.ts';

/** Fault rule installs and lifts on a host (the events faults.ts records), as the ladder wants them. */
function faultsOn(result: LabResult, names: readonly string[]) {
  return result.events
    .filter((e) => e.kind === 'fault' && names.includes(e.host) && (e.data?.op === 'install' || e.data?.op === 'lift'))
    .map((e) => {
      const d = e.data as Record<string, unknown>;
      return {
        atMs: e.atMs,
        op: d.op as 'install' | 'lift',
        id: String(d.id),
        kind: String(d.kind ?? ''),
        ...(typeof d.toPort === 'number' ? { toPort: d.toPort } : {}),
        ...(typeof d.fromPort === 'number' ? { fromPort: d.fromPort } : {}),
        action: (d.action === 'count' ? 'count' : 'drop') as 'drop' | 'count',
        ...(typeof d.packets === 'number' ? { packets: d.packets } : {}),
      };
    });
}

async function ladderOf(labDir: string, result: LabResult, cap: CaptureRecord): Promise<Diagram | undefined> {
  if (!cap.frames) return undefined;
  // a capture cut short (the run was killed) is drawn from its whole records
  const pcap = readPcap(await readFile(path.join(labDir, cap.file)), { partial: cap.error !== undefined });
  const segments = decodeTcp(pcap.frames, pcap.linktype);
  if (!segments.length) return undefined;
  const names = [cap.host, ...(cap.aliases ?? [])];
  const drawn = renderLadder({
    title: `${result.lab}: TCP segments on ${names.join(' / ')}`,
    segments,
    labStartUs: cap.timeZeroUs,
    snapshots: result.snapshots.filter((s) => names.includes(s.host)),
    faults: faultsOn(result, names),
  });
  // named after its pcap (capture-<x>.pcap → ladder-<x>.svg): two hosts never share a ladder file
  const file = `ladder-${cap.file.replace(/^capture-/, '').replace(/\.pcap$/, '')}.svg`;
  await writeFile(path.join(labDir, file), drawn.svg);
  const left = drawn.omitted.connections ? `; ${drawn.omitted.connections} more connection(s) and ${drawn.omitted.segments} segment(s) are only in the pcap` : drawn.omitted.segments ? `; ${drawn.omitted.segments} more segment(s) are only in the pcap` : '';
  return {
    file,
    kind: 'ladder',
    host: cap.host,
    caption: `Packet ladder on ${names.join(' / ')}: ${drawn.segments} segment(s) between ${drawn.endpoints} endpoint(s), from ${cap.file}${left}`,
  };
}

/** Draw every diagram the result has evidence for into labDir; returns what was written (in order). */
export async function writeDiagrams(labDir: string, result: LabResult, warn: (text: string) => void = () => {}): Promise<Diagram[]> {
  const out: Diagram[] = [];
  for (const cap of result.captures ?? []) {
    try {
      const d = await ladderOf(labDir, result, cap);
      if (d) out.push(d);
    } catch (err) {
      warn(`no ladder diagram for ${cap.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const samples = result.samples ?? [];
  if (hasTimeline(samples)) {
    try {
      const svg = renderTimeline({ title: `${result.lab}: sockets per state over time`, samples });
      await writeFile(path.join(labDir, 'timeline.svg'), svg);
      const hosts = [...new Set(samples.map((s) => s.host))];
      out.push({ file: 'timeline.svg', kind: 'timeline', caption: `Sockets per state over time on ${hosts.join(', ')}: ${samples.length} ss read(s) taken while the lab waited on the kernel or churned connections` });
    } catch (err) {
      warn(`no timeline diagram: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}
