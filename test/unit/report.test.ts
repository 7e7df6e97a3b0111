import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { finalReport, liveReporter } from '../../harness/report/console.ts';
import { reproduceCommand } from '../../harness/report/format.ts';
import { renderWriteup } from '../../harness/report/writeup.ts';
import { snapshotFile } from '../../harness/report/story.ts';
import type { Check, ClaimResult, LabResult } from '../../harness/evidence/records.ts';
import { meaning } from '../../harness/report/meaning.ts';
import { parseSs } from '../../harness/evidence/ss.ts';
import { createRunDir, newRunId, writeLabResult } from '../../harness/results/store.ts';
import { assertContract } from '../schema.ts';

const sockets = parseSs(readFileSync(new URL('../fixtures/ss-tanoH-mixed.txt', import.meta.url), 'utf8'));
const result: LabResult = {
  schemaVersion: 4,
  lab: 'demo',
  title: 'Demo lab',
  outcome: 'ran',
  kernel: 'Linux 6.18.0 x86_64',
  ranOn: 'host',
  startedAt: '2026-11-21T09:00:00.000Z',
  durationMs: 42,
  sysctls: { 'net.ipv4.tcp_fin_timeout': '3' },
  options: { old: ['none', 'both'], port: 9000 },
  claims: [{ id: 'c1', source: '000_c4090bf7a4c28683.txt', statement: 'A claim | with a pipe.', verdict: 'refuted', observed: 'bind ok over 2 TIME-WAIT' }],
  snapshots: [{ label: 'before restart', host: 'sandbox', atMs: 5, sockets }],
  events: [
    { atMs: 1, host: 'sandbox', kind: 'step', detail: 'open the listener' },
    { atMs: 7, host: 'sandbox', kind: 'bind', detail: 'bind EADDRINUSE', data: { bind: 'EADDRINUSE' } },
  ],
  tables: [{ title: 'Matrix', columns: ['old \\ new', 'none'], rows: [['none', 'bind EADDRINUSE']] }],
};

describe('writeup.md', () => {
  const md = renderWriteup(result, [], { titles: {} });
  it('tells the claims, verdicts, evidence and steps in order', () => {
    expect(md).toMatch(/^# Demo lab\n/);
    expect(md).toContain('reproduce: `npm run lab demo -- --old none,both --port 9000`');
    expect(md).toContain('`net.ipv4.tcp_fin_timeout = 3`');
    expect(md).toContain('| c1 | 000 | **refuted** | bind ok over 2 TIME-WAIT |');
    expect(md).toContain('A claim | with a pipe.');
    expect(md).toContain('| none | bind EADDRINUSE |');
    const step = md.indexOf('**open the listener**');
    const snap = md.indexOf('"before restart"');
    const bind = md.indexOf('- bind (sandbox): bind EADDRINUSE');
    expect(step).toBeGreaterThan(0);
    expect(snap).toBeGreaterThan(step);
    expect(bind).toBeGreaterThan(snap);
    expect(md).toContain('TIME_WAIT 1'); // RFC names next to ss's
  });

  it('shows how each verdict was reached, one row per check, with preconditions and missing figures named', () => {
    const checks: Check[] = [
      { what: 'the state was held', saw: true, want: 'yes', ok: true, role: 'need' },
      { what: 'bind errno', saw: 'ok', want: 'EADDRINUSE', ok: false, role: 'part' },
      { what: 'reuse start', want: 'observed', role: 'part', why: 'the watch ended at 500 ms' },
    ];
    const graded = renderWriteup({ ...result, claims: [{ ...result.claims[0], checks }] }, [], { titles: {} });
    expect(graded).toContain('### c1: refuted\n\nWhat was measured: bind ok over 2 TIME-WAIT\n\nHow the verdict was reached:');
    expect(graded).toContain('| the state was held (precondition) | true | yes | yes |');
    expect(graded).toContain('| bind errno | ok | EADDRINUSE | no |');
    expect(graded).toContain('| reuse start | not observed (the watch ended at 500 ms) | observed | — |');
  });
});

const RUN = new URL('../fixtures/report/20261201-075720-ded0/', import.meta.url);
const fixture = (lab: string): LabResult => JSON.parse(readFileSync(new URL(`${lab}/result.json`, RUN), 'utf8'));
const KERNEL = 'Linux 6.18.44-fc-v657 x86_64';

describe('writeup.md of recorded runs (test/fixtures/report/)', () => {
  const titles = { '000_c4090bf7a4c28683.txt': 'TIME_WAIT', '001_409283d7d09adb0c.txt': 'The 11 TCP states one by one' };

  it('is an article section: claims, set-up, steps, evidence, verdicts, what it means, in that order', () => {
    const md = renderWriteup(fixture('time-wait-restart'), [], { titles });
    const at = ['# Restart a listener over TIME-WAIT', '## Claims', '## Set-up', '## Steps', '## Evidence', '## Verdicts', '## What it means'].map((h) => md.indexOf(`${h}`));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(md).toContain('- **reuseport-not-over-time-wait**, from the article “TIME_WAIT” (000), `000_c4090bf7a4c28683.txt`: SO_REUSEPORT cannot bind');
    expect(md).toContain('- **restart-needs-reuseaddr**, from the article “The 11 TCP states one by one” (001)');
    expect(md).toContain('- sysctls set inside the lab\'s own network namespace: none (kernel defaults)');
    expect(renderWriteup(fixture('time-wait-restart'), [], { titles })).toBe(md); // deterministic
  });

  it('excerpts a long snapshot: the census, a few lines of every state, and a link to the rest', () => {
    const r = fixture('time-wait-restart');
    const snap = r.snapshots[0];
    expect(snap.sockets.length).toBeGreaterThan(20);
    const md = renderWriteup(r, [], { titles: {} });
    expect(md).toContain('"after the restarts" (+667 ms): TIME-WAIT 42, LISTEN 12, CLOSE-WAIT 4, ESTAB 4, FIN-WAIT-2 4 (');
    const block = md.slice(md.indexOf('"after the restarts"')).split('```')[1].trim().split('\n');
    expect(block.length).toBeLessThanOrEqual(12);
    for (const state of ['LISTEN', 'TIME-WAIT', 'ESTAB', 'FIN-WAIT-2', 'CLOSE-WAIT']) expect(block.some((l) => l.startsWith(state))).toBe(true);
    expect(md).toContain(`_… ${snap.sockets.length - block.length} more socket(s) in [snapshots/01-sandbox-after-the-restarts.txt](snapshots/01-sandbox-after-the-restarts.txt)_`);
    // a short snapshot is shown whole
    const short = renderWriteup({ ...r, snapshots: [{ ...snap, sockets: snap.sockets.slice(0, 20) }] }, [], { titles: {} });
    expect(short).not.toContain('more socket(s)');
    expect(short.slice(short.indexOf('"after the restarts"')).split('```')[1].trim().split('\n')).toHaveLength(20);
  });

  it('says what a refutation means from its checks: what was seen instead, and what did hold', () => {
    const md = renderWriteup(fixture('time-wait-restart'), [], { titles: {} });
    expect(md).toContain(
      `- **reuseport-not-over-time-wait** (refuted): The article's statement did not hold on ${KERNEL}. Seen instead: restart reuseport -> reuseport over TIME-WAIT: ok, where the statement expects bind EADDRINUSE. What did hold: restart both -> both over TIME-WAIT: ok.`,
    );
    expect(md).toContain(`- **restart-needs-reuseaddr** (confirmed): The article's statement held on ${KERNEL}, with the set-up above: restart none -> none over TIME-WAIT: bind EADDRINUSE;`);
  });

  it('embeds the diagrams it is given and lists the pcaps with how to open them', () => {
    const r = fixture('active-close');
    const md = renderWriteup(r, [{ file: 'ladder-sandbox.svg', kind: 'ladder', host: 'sandbox', caption: 'Packets on sandbox [all of them]' }], { titles: {} });
    expect(md).toContain('### Packets on sandbox [all of them]\n\n![Packets on sandbox all of them](ladder-sandbox.svg)');
    expect(md).toContain('Open one with `tcpdump -nr capture-sandbox.pcap`');
    expect(md).toContain('| sandbox | [capture-sandbox.pcap](capture-sandbox.pcap) | 33 | 2312 | 0 |');
    expect(md).not.toContain('could not queue');
    const dropped = renderWriteup({ ...r, captures: [{ ...r.captures![0], drops: 3, error: 'read failed' }] }, [], { titles: {} });
    expect(dropped).toContain('capture-sandbox.pcap lacks 3');
    expect(dropped).toContain('capture-sandbox.pcap: read failed');
    // the fault rules are part of the set-up
    expect(md).toMatch(/segments dropped or counted on purpose .*:\n {2}- f1: drop fin-ack segments from :20000 \(the ACK of the FIN never arrives\)\n/);
    expect(md).toContain('  - f6: count fin segments from :20002');
  });

  it("tells the lab's own set-up text when the result carries it", () => {
    const r = { ...fixture('close-wait-leak'), setup: 'A server that never closes, under a low open-files limit.' };
    expect(renderWriteup(r, [], { titles: {} })).toContain("## Set-up\n\nA server that never closes, under a low open-files limit.\n\n- reproduce: `npm run lab close-wait-leak -- --nofile 64 --wait 2`");
  });

  it('tables the ss reads during waits unless a timeline diagram shows them', () => {
    const r = fixture('close-wait-leak');
    const md = renderWriteup(r, [], { titles: {} });
    expect(md).toContain('| +1213 – 3340 ms | sandbox | a 2 s watch | 10 | CLOSE-WAIT 38, ESTAB 2, FIN-WAIT-2 38, LISTEN 1 |');
    const withTimeline = renderWriteup(r, [{ file: 'timeline.svg', kind: 'timeline', caption: 'Sockets per state' }], { titles: {} });
    expect(withTimeline).toContain('![Sockets per state](timeline.svg)');
    expect(withTimeline).not.toContain('| ss reads |');
    expect(md).toContain('- sysctl (sandbox): net.ipv4.tcp_fin_timeout = 1\n\n**start the leaky server');
  });

  it('sums up a matrix lab: per-host sysctls by name, the hosts, and the busy set-up step', () => {
    const r: LabResult = JSON.parse(readFileSync(new URL('../fixtures/report/tw-reuse.result.json', import.meta.url), 'utf8'));
    const md = renderWriteup(r, [], { titles: {} });
    expect(md).toContain('  - `net.ipv4.tcp_tw_reuse`: 0 on 4 hosts; 1 on 7 hosts; 2 on 4 hosts');
    expect(md).toContain('  - `net.ipv4.tcp_tw_reuse_delay`: 200 on client-two-host-r1-t1-d200; 2500 on client-two-host-r1-t1-d2500');
    expect(md).toMatch(/- hosts \(network namespaces\) in this run: sandbox, .*, and 16 more\n/);
    expect(md).toContain('(+3 ms)\n\n- 22 netns, 52 sysctl, 8 topology event(s) not listed (all in result.json)\n');
    expect(md).toContain('- links between them:\n  - client-two-host-r2-t0 10.199.5.2 (c5) <-> server-two-host-r2-t0 10.199.5.1 (s5) over a veth pair');
    expect(md).toContain(
      `- **tw-reuse-remedy** (partly): The article's statement held only in part on ${KERNEL}. Held: two-host, tcp_tw_reuse=1 with timestamps: reused (reused after 1120 ms): yes. Did not hold: loopback, tcp_tw_reuse=1 with timestamps: reused (no reuse (-)): no, where the statement expects yes;`,
    );
  });
});

describe('what a verdict means', () => {
  const claim: ClaimResult = { id: 'x', source: '000_c4090bf7a4c28683.txt', statement: 's', verdict: 'inconclusive', observed: 'the watch ended early' };
  it('inconclusive: the unmet preconditions and what was not observed, with why', () => {
    const text = meaning(
      {
        ...claim,
        checks: [
          { what: 'TIME-WAIT was reached', saw: false, want: 'yes', ok: false, role: 'need', why: 'the close never finished' },
          { what: 'reuse start', want: 'observed', role: 'part', why: 'the watch ended at 500 ms' },
          { what: 'ports used', saw: 3, unit: 'ports', want: '3', ok: true, role: 'part' },
        ],
      },
      'Linux 6.1',
    );
    expect(text).toBe(
      "This run cannot say whether the statement holds on Linux 6.1. The experiment's preconditions were not met: TIME-WAIT was reached (the close never finished). Not observed: reuse start (the watch ended at 500 ms). What was measured and held: ports used: 3 ports.",
    );
  });
  it('partly: a condition the article does not state', () => {
    const text = meaning(
      { ...claim, verdict: 'partly', checks: [{ what: 'bind', saw: 'ok', want: 'ok', ok: true, role: 'part' }, { what: 'timestamps on', saw: false, want: 'yes', ok: false, role: 'caveat' }] },
      'Linux 6.1',
    );
    expect(text).toBe("The article's statement held only in part on Linux 6.1. Held: bind: ok. It needs a condition the article does not state: timestamps on: no (yes was needed).");
  });
  it('without checks it falls back to the observed text', () => {
    expect(meaning(claim, 'Linux 6.1')).toBe('This run could not decide the statement on Linux 6.1. What was measured: the watch ended early');
  });
});

describe('changeLine', () => {
  it('says what changed between two snapshots of a host', async () => {
    const { changeLine } = await import('../../harness/report/writeup.ts');
    const { parseSsLine } = await import('../../harness/evidence/ss.ts');
    const snap = (label: string, lines: string[]) => ({ label, host: 'sandbox', atMs: 0, sockets: lines.map(parseSsLine) });
    const a = snap('before', ['ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5000', 'ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5001', 'LISTEN 0 511 127.0.0.1:9000 0.0.0.0:*']);
    const b = snap('after', ['TIME-WAIT 0 0 127.0.0.1:9000 127.0.0.1:5000', 'TIME-WAIT 0 0 127.0.0.1:9000 127.0.0.1:5001', 'ESTAB 0 0 127.0.0.1:9000 127.0.0.1:5002']);
    expect(changeLine(a, b)).toBe('since "before": 1 new, 1 gone, ESTAB → TIME-WAIT ×2');
    expect(changeLine(a, a)).toBe('since "before": no change');
  });
});

describe('console report', () => {
  it('prints steps, focused ss lines and a verdict row per claim', () => {
    let out = '';
    const p = { write: (t: string) => void (out += t), isTTY: false };
    const live = liveReporter(p);
    live({ type: 'event', event: result.events[0] });
    live({ type: 'snapshot', snapshot: result.snapshots[0], focus: { state: 'TIME-WAIT' } });
    finalReport(p, result, 'results/x/demo');
    expect(out).toContain('▶ open the listener');
    expect(out).toMatch(/ss -tanoH \[before restart\] on sandbox: ESTAB 4, .*; 1 shown\n {4}TIME-WAIT .*timer:\(timewait,59sec,0\)\n/);
    expect(out).not.toMatch(/\n {4}LISTEN/);
    expect(out).toMatch(/c1\s+000\s+refuted\s+bind ok over 2 TIME-WAIT/);
    expect(out).toContain('results: results/x/demo');
  });
  it('reproduceCommand without options', () => expect(reproduceCommand({ lab: 'x', options: {} })).toBe('npm run lab x'));
});

describe('results store', () => {
  it('gives every run a new folder and never overwrites a lab result', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tcplab-store-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const a = await createRunDir(root);
    const b = await createRunDir(root);
    expect(a).not.toBe(b);
    expect(newRunId(new Date('2026-11-21T09:30:12Z'))).toMatch(/^20261121-093012-[0-9a-f]{4}$/);
    const dir = await writeLabResult(a, result);
    expect(readdirSync(dir).sort()).toEqual(['result.json', 'snapshots', 'writeup.md']);
    expect(readdirSync(path.join(dir, 'snapshots'))).toEqual(['01-sandbox-before-restart.txt']);
    expect(snapshotFile(1, result.snapshots[0])).toBe('01-sandbox-before-restart.txt'); // the writeup links to it by this name
    await expect(writeLabResult(a, result)).rejects.toThrow(/EEXIST/);
  });
});

describe('result contract (harness/result.schema.json)', () => {
  it('accepts a well-formed result', () => expect(() => assertContract(result)).not.toThrow());
  it('rejects an unknown verdict and a missing field', () => {
    expect(() => assertContract({ ...result, claims: [{ ...result.claims[0], verdict: 'maybe' as never }] })).toThrow(/verdict/);
    const { kernel: _k, ...noKernel } = result;
    expect(() => assertContract(noKernel as LabResult)).toThrow(/kernel/);
  });
});
