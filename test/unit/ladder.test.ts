// The packet ladder (harness/report/ladder.ts) drawn from the recorded fixture captures.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { segmentsOfPcap, type Segment } from '../../harness/evidence/packets.ts';
import type { SnapshotRecord } from '../../harness/evidence/records.ts';
import { parseSs } from '../../harness/evidence/ss.ts';
import { faultMatches, renderLadder, type LadderFault, type LadderInput } from '../../harness/report/ladder.ts';
import { stateColor } from '../../harness/report/svg.ts';
import { allElements, checkSvg, type XmlElement } from './svg-check.ts';

const segs = (name: string) => segmentsOfPcap(readFileSync(path.resolve(import.meta.dirname, `../fixtures/pcap/${name}.pcap`))).segments;
/** The lab "started" 10 ms before the first segment. */
const start = (s: Segment[]) => s[0].tUs - 10_000;
const msOf = (s: Segment[], i: number) => (s[i].tUs - start(s)) / 1000;
const snap = (label: string, atMs: number, ss: string, host = 'lab'): SnapshotRecord => ({ label, host, atMs, sockets: parseSs(ss) });

const byClass = (root: XmlElement, cls: string) => allElements(root).filter((e) => (e.attrs.class ?? '').split(' ').includes(cls));
const titleOf = (e: XmlElement) => e.children.find((c) => c.name === 'title')?.text ?? '';
const texts = (root: XmlElement) => allElements(root).filter((e) => e.name === 'text').map((e) => e.text);

describe('renderLadder', () => {
  it('draws one arrow per segment between one lane per endpoint, the listener shared and right of its clients', () => {
    const s = segs('two-clients');
    const out = renderLadder({ title: 'two clients', segments: s, labStartUs: start(s) });
    expect(out).toMatchObject({ endpoints: 3, segments: 16, omitted: { connections: 0, segments: 0 } });
    const root = checkSvg(out.svg);
    expect(byClass(root, 'segment')).toHaveLength(16);
    const lanes = allElements(root).filter((e) => e.name === 'text' && e.attrs['font-weight'] === 'bold' && /^127\./.test(e.text));
    expect(lanes.map((e) => [e.text, Number(e.attrs.x)]).sort((a, b) => (a[1] as number) - (b[1] as number)).map(([t]) => t)).toEqual(['127.0.0.1:40000', '127.0.0.1:40001', '127.0.0.1:9000']);
    // labels carry flags, relative numbers and length; times in ms since the lab started, one decimal
    expect(texts(root)).toContain('[S.] seq 0 ack 1 len 0');
    expect(texts(root)).toContain('[P.] seq 1:5 ack 1 len 4');
    expect(texts(root)).toContain(`${msOf(s, 0).toFixed(1)} ms`);
    // arrows go down the page in capture order; each ends lower than it starts
    const lines = byClass(root, 'segment').map((g) => g.children.find((c) => c.name === 'line')!);
    const ys = lines.map((l) => Number(l.attrs.y1));
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    for (const l of lines) expect(Number(l.attrs.y2)).toBeGreaterThan(Number(l.attrs.y1));
  });

  it('draws state bands from the snapshots, LISTEN on the listener\'s own track, and (gone) once a socket is absent', () => {
    const s = segs('close-four-way');
    const L = 'LISTEN 0 8 0.0.0.0:9000 0.0.0.0:*';
    const snapshots = [
      snap('listening', 1, L),
      snap('connected', msOf(s, 4) + 0.5, `${L}\nESTAB 0 0 127.0.0.1:40000 127.0.0.1:9000\nESTAB 0 0 127.0.0.1:9000 127.0.0.1:40000`),
      snap('half closed', msOf(s, 6) + 0.5, `${L}\nFIN-WAIT-2 0 0 127.0.0.1:40000 127.0.0.1:9000\nCLOSE-WAIT 1 0 127.0.0.1:9000 127.0.0.1:40000`),
      snap('closed', msOf(s, 8) + 0.5, `${L}\nTIME-WAIT 0 0 127.0.0.1:40000 127.0.0.1:9000`),
      snap('elsewhere', 2, 'ESTAB 0 0 127.0.0.1:40000 127.0.0.1:9000', 'other-host'), // another host's view is not this lane's
    ];
    const root = checkSvg(renderLadder({ title: 'bands', segments: s, labStartUs: start(s), snapshots }).svg);
    const bands = byClass(root, 'band').map(titleOf);
    expect(bands).toEqual([
      expect.stringMatching(/^127\.0\.0\.1:40000 ↔ 127\.0\.0\.1:9000: ESTAB from [\d.]+ ms \(snapshot "connected"\)$/),
      expect.stringMatching(/: FIN-WAIT-2 from .*"half closed"/),
      expect.stringMatching(/: TIME-WAIT from .*"closed"/),
      expect.stringMatching(/^127\.0\.0\.1:9000 \(listening socket\): LISTEN from 1 ms \(snapshot "listening"\)$/),
      expect.stringMatching(/^127\.0\.0\.1:9000 ↔ 127\.0\.0\.1:40000: ESTAB from/),
      expect.stringMatching(/: CLOSE-WAIT from/),
      expect.stringMatching(/^127\.0\.0\.1:9000 ↔ 127\.0\.0\.1:40000: \(gone\) from .*"closed"/),
    ]);
    // a band starts where its snapshot is and runs to the next snapshot that changed it
    const rects = byClass(root, 'band').map((g) => g.children.find((c) => c.name === 'rect' && c.attrs.width === '7')!);
    expect(rects[0].attrs.fill).toBe(stateColor('ESTAB'));
    expect(Number(rects[0].attrs.y) + Number(rects[0].attrs.height)).toBe(Number(rects[1].attrs.y));
    expect(texts(root)).toEqual(expect.arrayContaining(['LISTEN', 'TIME-WAIT', '(gone)', 'state TIME-WAIT', 'socket gone']));
  });

  it('draws the retransmission dashed, and a segment a drop rule matched while active as dropped', () => {
    const s = segs('fin-retransmit');
    const fin = msOf(s, 5);
    const faults: LadderFault[] = [
      { atMs: fin - 5, op: 'install', id: 'f1', kind: 'fin', toPort: 9000, action: 'drop' },
      { atMs: fin - 5, op: 'install', id: 'f2', kind: 'ack', fromPort: 9000, action: 'count' }, // counting drops nothing
      { atMs: fin + 100, op: 'lift', id: 'f1' },
    ];
    const out = renderLadder({ title: 'retransmit', segments: s, labStartUs: start(s), faults });
    const root = checkSvg(out.svg);
    const dropped = byClass(root, 'dropped');
    expect(dropped).toHaveLength(1);
    expect(titleOf(dropped[0])).toMatch(/Flags \[F\.\], seq 5, ack 1.*dropped by fault f1/);
    expect(allElements(dropped[0]).some((e) => e.name === 'polygon')).toBe(false); // no arrowhead: it never arrived
    expect(texts(root)).toContain('dropped by fault f1');
    const re = byClass(root, 'retransmission');
    expect(re).toHaveLength(1);
    expect(re[0].children.find((c) => c.name === 'line')!.attrs['stroke-dasharray']).toBeDefined();
    expect(byClass(root, 'segment').filter((g) => g.children.find((c) => c.name === 'line')!.attrs['stroke-dasharray'])).toHaveLength(1);
    expect(byClass(root, 'fault-mark').map(titleOf)).toEqual([expect.stringMatching(/^f1 installed at .*: drop fin segments to :9000$/), expect.stringMatching(/^f2 installed/), expect.stringMatching(/^f1 lifted/)]);
    // the same rule lifted before the FIN, or aimed at the other direction, drops nothing
    const early: LadderFault[] = [{ ...faults[0] }, { atMs: fin - 1, op: 'lift', id: 'f1' }];
    expect(byClass(checkSvg(renderLadder({ title: 'x', segments: s, labStartUs: start(s), faults: early }).svg), 'dropped')).toHaveLength(0);
    const wrongWay: LadderFault[] = [{ ...faults[0], toPort: 40000 }, faults[2]]; // the server's FIN comes after the lift
    expect(byClass(checkSvg(renderLadder({ title: 'x', segments: s, labStartUs: start(s), faults: wrongWay }).svg), 'dropped')).toHaveLength(0);
    // the lift's count caps how many are drawn dropped (the retransmission got through)
    const open: LadderFault[] = [{ ...faults[0] }, { atMs: fin + 1000, op: 'lift', id: 'f1', packets: 1 }];
    expect(byClass(checkSvg(renderLadder({ title: 'x', segments: s, labStartUs: start(s), faults: open }).svg), 'dropped')).toHaveLength(1);
    expect(byClass(checkSvg(renderLadder({ title: 'x', segments: s, labStartUs: start(s), faults: [faults[0]] }).svg), 'dropped')).toHaveLength(2);
  });

  it('matches segments to fault kinds as nft does (faults.ts FLAG_MATCH)', () => {
    const seg = (flags: string): Segment => ({ tUs: 0, frame: 0, src: 'a', sport: 1, dst: 'b', dport: 2, flags, seq: 0, ack: 0, len: 0, win: 0 });
    const kinds = ['syn', 'syn-ack', 'ack', 'handshake-ack', 'fin-ack', 'fin', 'rst', 'all'];
    const table = Object.fromEntries(['S', 'S.', '.', 'P.', 'F.', 'R', 'R.'].map((f) => [f, kinds.filter((kind) => faultMatches({ atMs: 0, op: 'install', id: 'f', kind }, seg(f)))]));
    expect(table).toEqual({
      S: ['syn', 'all'], 'S.': ['syn-ack', 'all'], '.': ['ack', 'handshake-ack', 'fin-ack', 'all'], 'P.': ['ack', 'handshake-ack', 'fin-ack', 'all'],
      'F.': ['fin', 'all'], R: ['rst', 'all'], 'R.': ['rst', 'all'],
    });
    expect(faultMatches({ atMs: 0, op: 'install', id: 'f', kind: 'all', toPort: 2, fromPort: 1 }, seg('S'))).toBe(true);
    expect(faultMatches({ atMs: 0, op: 'install', id: 'f', kind: 'all', toPort: 1 }, seg('S'))).toBe(false);
    expect(faultMatches({ atMs: 0, op: 'install', id: 'f', kind: 'all', fromPort: 2 }, seg('S'))).toBe(false);
  });

  it('cuts a long idle gap (a port reused after TIME-WAIT) with a "… s …" break instead of drawing it to scale', () => {
    const s = segs('port-reuse').map((x, i) => (i >= 8 ? { ...x, tUs: x.tUs + 58_000_000 } : x));
    const root = checkSvg(renderLadder({ title: 'reuse', segments: s, labStartUs: start(s) }).svg);
    const breaks = byClass(root, 'break');
    expect(breaks).toHaveLength(1);
    const gap = (s[8].tUs - s[7].tUs) / 1e6;
    expect(texts(root)).toContain(`… ${gap.toFixed(1)} s …`);
    expect(Number(root.attrs.height)).toBeLessThan(1200);
    expect(byClass(root, 'segment')).toHaveLength(16); // two connections on the same two lanes
    expect(texts(root).filter((t) => /^connection \d$/.test(t))).toEqual(['connection 1', 'connection 2']);
    expect(allElements(root).filter((e) => e.name === 'line' && e.attrs.stroke === '#444444')).toHaveLength(2);
  });

  it('draws the first connections within the limits and says what it left out', () => {
    const s = segs('two-clients');
    const two = renderLadder({ title: 'limit', segments: s, labStartUs: start(s), maxEndpoints: 2 });
    expect(two).toMatchObject({ endpoints: 2, segments: 8, omitted: { connections: 1, segments: 8 } });
    expect(texts(checkSvg(two.svg))).toContain('Not drawn (limits 2 endpoints, 120 segments): 1 more connection(s), 8 segment(s) in all; see the pcap.');
    const five = renderLadder({ title: 'limit', segments: s, labStartUs: start(s), maxSegments: 5 });
    expect(five).toMatchObject({ endpoints: 2, segments: 5, omitted: { connections: 1, segments: 11 } });
    expect(byClass(checkSvg(five.svg), 'segment')).toHaveLength(5);
    const ten = renderLadder({ title: 'limit', segments: s, labStartUs: start(s), maxSegments: 10 });
    expect(ten).toMatchObject({ endpoints: 3, segments: 10, omitted: { connections: 0, segments: 6 } });
    expect(() => renderLadder({ title: 'x', segments: s, labStartUs: 0, maxEndpoints: 1 })).toThrow(/maxEndpoints must be an integer >= 2/);
    expect(renderLadder({ title: 'nothing', segments: [], labStartUs: 0 })).toMatchObject({ endpoints: 0, segments: 0 });
  });

  it('is deterministic, escapes its text, and is well-formed SVG 1.1 with title, desc, size and viewBox', () => {
    const s = segs('rst-unread');
    const input: LadderInput = {
      title: 'RST <unread> & "quoted" \'x\' ]]> \u0001',
      segments: s, labStartUs: start(s),
      snapshots: [snap('label <&> "x"', msOf(s, 4) + 0.5, 'ESTAB 12 0 127.0.0.1:9000 127.0.0.1:40000\nESTAB 0 0 127.0.0.1:40000 127.0.0.1:9000')],
      faults: [{ atMs: 0, op: 'install', id: 'f<1>', kind: 'rst', action: 'drop' }],
    };
    const a = renderLadder(input);
    const b = renderLadder(JSON.parse(JSON.stringify(input)) as LadderInput);
    expect(a.svg).toBe(b.svg);
    const root = checkSvg(a.svg);
    expect(root.children[0].text).toBe('RST <unread> & "quoted" \'x\' ]]> ');
    expect(a.svg).toContain('RST &lt;unread&gt; &amp; &quot;quoted&quot; &apos;x&apos;');
    expect(a.svg).not.toMatch(/<unread>|f<1>/);
    expect(texts(root)).toContain('dropped by fault f<1>');
    expect(a.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" ')).toBe(true);
  });
});
