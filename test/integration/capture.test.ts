// Packet capture, for real: the pcap a lab run writes per namespace reads back in tcpdump with the frame count
// the capture recorded, spans the lab's first and last segment, and survives a run that is stopped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureSet } from '../../harness/kernel/capture.ts';
import { connections, decodeTcp, readPcap } from '../../harness/evidence/packets.ts';
import type { LabResult } from '../../harness/evidence/records.ts';
import { runLab } from '../../harness/runs/run.ts';
import { createLabDir, writeLabResult } from '../../harness/results/store.ts';
import { expectGone, hasProgram } from '../helpers.ts';
import { assertContract } from '../schema.ts';

const hasTcpdump = hasProgram('tcpdump');

/** Lines tcpdump prints for a pcap (one per frame). */
function tcpdumpLines(file: string): string[] {
  return execFileSync('tcpdump', ['-nr', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
}

const root = mkdtempSync(path.join(tmpdir(), 'tcplab-capture-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function captured(lab: string, options: Record<string, unknown> = {}): Promise<{ dir: string; r: LabResult }> {
  const runDir = mkdtempSync(path.join(root, 'run-'));
  const dir = await createLabDir(runDir, lab);
  const r = await runLab({ lab, options, captureDir: dir });
  expect(r.outcome).toBe('ran');
  assertContract(r);
  await writeLabResult(runDir, r);
  return { dir, r };
}

describe('packet capture (real kernel)', () => {
  let one: { dir: string; r: LabResult };
  let two: { dir: string; r: LabResult };
  beforeAll(async () => {
    [one, two] = [await captured('close-unread-rst'), await captured('port-exhaustion', { ports: 3 })];
  });

  it.skipIf(!hasTcpdump)('writes a pcap that tcpdump reads, with the frame count the capture recorded', () => {
    for (const { dir, r } of [one, two]) {
      for (const c of r.captures!) {
        expect(c.error).toBeUndefined();
        expect(c.drops).toBe(0);
        expect(c.frames).toBeGreaterThan(0);
        expect(tcpdumpLines(path.join(dir, c.file))).toHaveLength(c.frames);
      }
    }
  });

  it('captures each namespace of a two-host lab in its own file, named as the lab names the hosts', () => {
    expect(one.r.captures!.map((c) => c.host)).toEqual(['sandbox']);
    expect(two.r.captures!.map((c) => c.file).sort()).toEqual(['capture-client.pcap', 'capture-sandbox.pcap']);
    expect(two.r.captures!.find((c) => c.host === 'sandbox')!.aliases).toEqual(['server']);
  });

  it('spans the lab: every connection ss saw established has its SYN and its end (FIN or RST) in the capture', () => {
    const pcap = readPcap(readFileSync(path.join(one.dir, 'capture-sandbox.pcap')));
    const conns = connections(decodeTcp(pcap.frames, pcap.linktype));
    const estab = one.r.snapshots.flatMap((s) => s.sockets).filter((s) => s.state === 'ESTAB');
    expect(estab.length).toBeGreaterThan(0);
    for (const s of estab) {
      const port = (a: string) => Number(a.slice(a.lastIndexOf(':') + 1));
      const c = conns.find((x) => [x.initiator.port, x.responder.port].sort().join() === [port(s.local), port(s.peer)].sort().join());
      expect(c, `${s.local} ${s.peer}`).toBeDefined();
      expect(c!.sawSyn).toBe(true);
      expect(c!.segments.some((f) => /[FR]/.test(f.seg.flags))).toBe(true);
    }
    // every frame has its own kernel receive time: they never go back in file order, and each SYN comes before its SYN-ACK
    for (let i = 1; i < pcap.frames.length; i++) expect(pcap.frames[i].tsUs).toBeGreaterThanOrEqual(pcap.frames[i - 1].tsUs);
    for (const x of conns) {
      const syn = x.segments.find((f) => f.seg.flags === 'S');
      const synAck = x.segments.find((f) => f.seg.flags === 'S.');
      if (syn && synAck) expect(syn.seg.tUs).toBeLessThanOrEqual(synAck.seg.tUs);
    }
    // the capture's clock and the lab's agree: frames fall inside the lab's own time
    const c = one.r.captures![0];
    const start = Date.parse(one.r.startedAt) * 1000;
    expect(c.firstUs! - start).toBeGreaterThanOrEqual(-2000);
    expect(c.lastUs! - start).toBeLessThanOrEqual(one.r.durationMs * 1000 + 2000);
  });

  it('draws a ladder per captured host beside the pcap and embeds it in the writeup', () => {
    const svg = readFileSync(path.join(one.dir, 'ladder-sandbox.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect((svg.match(/class="segment/g) ?? []).length).toBeGreaterThan(0);
    expect(readFileSync(path.join(one.dir, 'writeup.md'), 'utf8')).toContain('](ladder-sandbox.svg)');
  });

  it('without a folder there is no capture and no captures field', async () => {
    const r = await runLab({ lab: 'close-unread-rst' });
    expect(r.captures).toBeUndefined();
  });

  it('a run whose sandbox is killed keeps the pcap it wrote, recorded as cut short', async () => {
    const runDir = mkdtempSync(path.join(root, 'killed-'));
    const dir = await createLabDir(runDir, 'fin-wait-2-timeout');
    let pid: number | undefined;
    const r = await runLab({
      lab: 'fin-wait-2-timeout',
      captureDir: dir,
      onSpawn: (p) => (pid = p),
      // kill it while it waits on the kernel's timer, after its first segments (the reader writes when idle)
      onMessage: (m) => {
        if (m.type === 'snapshot' && pid !== undefined) setTimeout(() => process.kill(pid!, 'SIGKILL'), 300);
      },
    });
    await expectGone(pid!);
    expect(r.outcome).toBe('error');
    expect(r.captures).toHaveLength(1);
    expect(r.captures![0].error).toMatch(/^cut short: /);
    expect(r.captures![0].frames).toBeGreaterThan(0);
  });
});

describe('capture where the kernel refuses a packet socket', () => {
  it('degrades to no capture with one notice, and stop() returns nothing', async () => {
    const notices: string[] = [];
    const set = new CaptureSet(root, Date.now(), (t) => notices.push(t));
    const refuse = () => {
      throw Object.assign(new Error('socket(AF_PACKET) failed: EPERM'), { code: 'EPERM' });
    };
    set.add('a', refuse);
    set.add('b', refuse);
    expect(notices).toEqual(['no packet capture: socket(AF_PACKET) failed: EPERM (the lab runs without one)']);
    expect(set.enabled).toBe(false);
    expect(await set.stop()).toEqual([]);
  });
});
