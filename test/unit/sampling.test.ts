// Timeline samples: ss output (recorded) reduced to counts per state and timer ranges, and sampleWhile's schedule.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSs } from '../../harness/evidence/ss.ts';
import type { SampleRecord } from '../../harness/evidence/records.ts';
import type { Host } from '../../harness/kernel/host.ts';
import { sampleOf, sampleWhile } from '../../harness/lab/sampling.ts';

const RECORDED = readFileSync(new URL('../fixtures/ss-tanoH-mixed.txt', import.meta.url), 'utf8');

describe('sampleOf', () => {
  it('counts sockets per state and gives each timer the range of its remaining times', () => {
    const read = parseSs(RECORDED);
    const s = sampleOf(read, 42, 'sandbox', 'a wait');
    expect(Object.values(s.counts).reduce((a, b) => a + b, 0)).toBe(read.length);
    for (const [state, n] of Object.entries(s.counts)) expect(read.filter((x) => x.state === state)).toHaveLength(n);
    for (const [name, t] of Object.entries(s.timers ?? {})) {
      const ms = read.filter((x) => x.timer?.name === name && x.timer.remainingMs !== undefined).map((x) => x.timer!.remainingMs!);
      expect(t).toEqual({ minMs: Math.min(...ms), maxMs: Math.max(...ms), n: ms.length });
    }
    expect(sampleOf([], 0, 'h', 'w')).toEqual({ atMs: 0, host: 'h', wait: 'w', counts: {} });
  });
});

describe('sampleWhile', () => {
  it('reads every host on its schedule while the work runs, once more after it, and returns the work\'s value', async () => {
    const reads: string[] = [];
    const host = (name: string): Host => ({ name, exec: async () => (reads.push(name), RECORDED) });
    const samples: SampleRecord[] = [];
    const t0 = Date.now();
    const value = await sampleWhile('churn', () => new Promise((r) => setTimeout(() => r('done'), 230)), { hosts: [host('a'), host('b')], everyMs: 50 }, {
      signal: new AbortController().signal,
      now: () => Date.now() - t0,
      push: (s) => samples.push(s),
    });
    expect(value).toBe('done');
    const a = samples.filter((s) => s.host === 'a');
    expect(a.length).toBeGreaterThanOrEqual(4); // ~230 / 50, plus the read after the work
    expect(a.length).toBeLessThanOrEqual(8);
    expect(samples.filter((s) => s.host === 'b')).toHaveLength(a.length);
    expect(a.at(-1)!.atMs).toBeGreaterThanOrEqual(225);
    expect(samples.every((s) => s.wait === 'churn')).toBe(true);
  });

  it('an error of the work passes through, and sampling stops', async () => {
    const samples: SampleRecord[] = [];
    const host: Host = { name: 'a', exec: async () => RECORDED };
    const sink = { signal: new AbortController().signal, now: () => 0, push: (s: SampleRecord) => samples.push(s) };
    await expect(sampleWhile('w', () => Promise.reject(new Error('boom')), { hosts: [host] }, sink)).rejects.toThrow('boom');
    const n = samples.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(samples).toHaveLength(n);
  });
});
