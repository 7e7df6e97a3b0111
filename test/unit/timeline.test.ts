// The state timeline (harness/report/timeline.ts): step lines per state and host, timer bands when present.
import { describe, expect, it } from 'vitest';
import { stateColor } from '../../harness/report/svg.ts';
import { hasTimeline, renderTimeline, stateSeries, type TimelineSample } from '../../harness/report/timeline.ts';
import { allElements, checkSvg, type XmlElement } from './svg-check.ts';

const byClass = (root: XmlElement, cls: string) => allElements(root).filter((e) => (e.attrs.class ?? '').split(' ').includes(cls));
const titleOf = (e: XmlElement) => e.children.find((c) => c.name === 'title')?.text ?? '';
const texts = (root: XmlElement) => allElements(root).filter((e) => e.name === 'text').map((e) => e.text);

/** The vertices of a step path "M x y H x V y H x V y ...": one [x, y] per sample. */
function vertices(d: string): [number, number][] {
  const m = /^M([\d.-]+) ([\d.-]+)((?:H[\d.-]+V[\d.-]+)*)(h4)?$/.exec(d);
  if (!m) throw new Error(`not a step path: ${d}`);
  const out: [number, number][] = [[Number(m[1]), Number(m[2])]];
  for (const s of m[3].matchAll(/H([\d.-]+)V([\d.-]+)/g)) out.push([Number(s[1]), Number(s[2])]);
  return out;
}

// a TIME-WAIT wait on one host: 3 connections closed, their sockets sit in TIME-WAIT, then go
const tw: TimelineSample[] = [0, 1, 2, 3, 4].map((i): TimelineSample => ({
  atMs: 200 + i * 15_000,
  host: 'client',
  counts: (i === 0 ? { ESTAB: 3 } : i < 4 ? { 'TIME-WAIT': 3 } : {}) as Record<string, number>,
  ...(i > 0 && i < 4 ? { timers: { timewait: { minMs: 60_000 - i * 15_000 - 300, maxMs: 60_000 - i * 15_000, n: 3 } } } : {}),
}));

describe('renderTimeline', () => {
  it('throws on no samples; hasTimeline says whether there is anything to draw', () => {
    expect(hasTimeline([])).toBe(false);
    expect(hasTimeline(undefined)).toBe(false);
    expect(hasTimeline(tw)).toBe(true);
    expect(() => renderTimeline({ title: 'x', samples: [] })).toThrow(/timeline: no samples to draw/);
    expect(() => renderTimeline({ title: 'x', samples: [{ atMs: NaN, host: 'h', counts: {} }] })).toThrow(/no valid time/);
  });

  it('draws one step line per state whose vertices are the samples (x by time, y by count)', () => {
    const root = checkSvg(renderTimeline({ title: 'tw', samples: tw }));
    const paths = byClass(root, 'state-series');
    expect(paths.map(titleOf)).toEqual([
      'ESTAB on client: 3 at 0.200 s, 0 at 15.200 s, 0 at 30.200 s, 0 at 45.200 s, 0 at 60.200 s',
      'TIME-WAIT on client: 0 at 0.200 s, 3 at 15.200 s, 3 at 30.200 s, 3 at 45.200 s, 0 at 60.200 s',
    ]);
    expect(paths.map((p) => p.attrs.stroke)).toEqual([stateColor('ESTAB'), stateColor('TIME-WAIT')]);
    for (const [p, state] of [[paths[0], 'ESTAB'], [paths[1], 'TIME-WAIT']] as const) {
      const v = vertices(p.attrs.d);
      const counts = tw.map((s) => s.counts[state] ?? 0);
      expect(v).toHaveLength(tw.length);
      // x is linear in time, y is linear and falling in the count
      const xPerMs = (v[4][0] - v[0][0]) / (tw[4].atMs - tw[0].atMs);
      v.forEach(([x], i) => expect(x).toBeCloseTo(v[0][0] + (tw[i].atMs - tw[0].atMs) * xPerMs, 0));
      const zeroY = v[counts.indexOf(0)][1];
      const threeY = v[counts.indexOf(3)][1];
      expect(threeY).toBeLessThan(zeroY);
      v.forEach(([, y], i) => expect(y).toBeCloseTo(zeroY + ((threeY - zeroY) * counts[i]) / 3, 0));
    }
    expect(texts(root)).toEqual(expect.arrayContaining(['0 s', '10 s', '60 s', '0', '3', 'ESTAB', 'TIME-WAIT', 'timer timewait']));
  });

  it('does not join the reads of two different waits: the step line starts again (M) at the second', () => {
    const two = [
      { atMs: 100, host: 'h', wait: 'churn', counts: { 'TIME-WAIT': 1 } },
      { atMs: 300, host: 'h', wait: 'churn', counts: { 'TIME-WAIT': 5 } },
      { atMs: 9000, host: 'h', wait: 'the timeout', counts: { 'TIME-WAIT': 2 } },
      { atMs: 9200, host: 'h', wait: 'the timeout', counts: { 'TIME-WAIT': 0 } },
    ];
    const [path] = byClass(checkSvg(renderTimeline({ title: 't', samples: two })), 'state-series');
    expect(path.attrs.d.match(/[MHV]/g)!.join('')).toBe('MHVMHV');
  });

  it('adds the timer panel only when a sample carries timers', () => {
    const withTimers = checkSvg(renderTimeline({ title: 'tw', samples: tw }));
    const bands = byClass(withTimers, 'timer-series');
    expect(bands).toHaveLength(1);
    expect(titleOf(bands[0])).toBe('timewait timer on client: 44.7–45.0 s (3) at 15.200 s, 29.7–30.0 s (3) at 30.200 s, 14.7–15.0 s (3) at 45.200 s');
    expect(bands[0].children.find((c) => c.name === 'polygon')!.attrs.points.split(' ')).toHaveLength(6); // 3 samples × (max, min)
    expect(texts(withTimers).some((t) => t.startsWith('timer remaining'))).toBe(true);
    const without = renderTimeline({ title: 'tw', samples: tw.map(({ timers: _, ...s }) => s) });
    const root = checkSvg(without);
    expect(byClass(root, 'timer-series')).toHaveLength(0);
    expect(texts(root).some((t) => t.startsWith('timer'))).toBe(false);
    expect(Number(root.attrs.height)).toBeLessThan(Number(withTimers.attrs.height));
  });

  it('gives each host its own labelled panel, in order of first appearance, on one count scale', () => {
    const samples: TimelineSample[] = [
      { atMs: 0, host: 'server', counts: { LISTEN: 1, 'CLOSE-WAIT': 2 } },
      { atMs: 5, host: 'client', counts: { 'FIN-WAIT-2': 2 } },
      { atMs: 1000, host: 'server', counts: { LISTEN: 1 } },
      { atMs: 1005, host: 'client', counts: { 'FIN-WAIT-2': 1 } },
    ];
    expect(stateSeries(samples).map((s) => `${s.host} ${s.state} ${s.points.map((p) => p.count).join('')}`)).toEqual(['server LISTEN 11', 'server CLOSE-WAIT 20', 'client FIN-WAIT-2 21']);
    const root = checkSvg(renderTimeline({ title: 'two hosts', samples }));
    expect(texts(root).filter((t) => t.startsWith('sockets per state on'))).toEqual(['sockets per state on server', 'sockets per state on client']);
    const ys = byClass(root, 'state-series').map((p) => vertices(p.attrs.d));
    // 2 sockets are drawn at the same height in both panels' own frames: the panels share the scale
    const serverTwo = ys[1][0][1] - ys[0][0][1]; // CLOSE-WAIT 2 vs LISTEN 1 in the server panel
    const clientTwo = ys[2][0][1] - ys[2][1][1]; // FIN-WAIT-2 2 vs 1 in the client panel
    expect(serverTwo).toBeLessThan(0);
    expect(serverTwo).toBeCloseTo(clientTwo, 1);
  });

  it('is deterministic, escapes its text, and is well-formed SVG 1.1', () => {
    const samples: TimelineSample[] = [{ atMs: 3, host: 'h<1> & "q"', counts: { ESTAB: 1, 'ODD<STATE>': 2 } }];
    const a = renderTimeline({ title: 'a <b> & c', samples });
    expect(renderTimeline(JSON.parse(JSON.stringify({ title: 'a <b> & c', samples })))).toBe(a);
    const root = checkSvg(a);
    expect(root.children[0].text).toBe('a <b> & c');
    expect(texts(root)).toEqual(expect.arrayContaining(['sockets per state on h<1> & "q"', 'ODD<STATE>']));
    expect(a).not.toMatch(/<b>|h<1>/);
    expect(vertices(byClass(root, 'state-series')[0].attrs.d)).toHaveLength(1); // one sample: a short tick, still drawn
  });
});
