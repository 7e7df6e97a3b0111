// The ss waits: which reads a wait makes (kernel-filtered polls, one full read for what it records), what the
// predicate sees, what is recorded; and until()'s schedule, wake-ups and timeout message.
import { describe, expect, it, vi } from 'vitest';
import { filterSockets, type SockFilter } from '../../harness/evidence/census.ts';
import { readOptionsFor, ssArgs } from '../../harness/evidence/read.ts';
import type { SampleRecord, SnapshotRecord } from '../../harness/evidence/records.ts';
import { formatRecord, type SockRecord } from '../../harness/evidence/ss.ts';
import type { Host } from '../../harness/kernel/host.ts';
import { getEventListeners } from 'node:events';
import { stopController, until } from '../../harness/kernel/wait.ts';
import { waitForSockets, waitSs, type WaitSink } from '../../harness/lab/waits.ts';
import { sampleWhile } from '../../harness/lab/sampling.ts';
import { WaitTimeout } from '../../harness/errors.ts';

const sock = (state: SockRecord['state'], local: string, peer: string): SockRecord => ({ state, recvQ: 0, sendQ: 0, local, peer });
/** 300 TIME-WAIT to :9000, a listener, and what the test adds */
const base = (): SockRecord[] => [
  sock('LISTEN', '127.0.0.1:9000', '0.0.0.0:*'),
  ...Array.from({ length: 300 }, (_, i) => sock('TIME-WAIT', `127.0.0.1:${30000 + i}`, '127.0.0.1:9000')),
];

/**
 * A host whose ss answers from `now()`: a full dump for `-tanoH`, and for a filtered read the sockets `filter`
 * picks (without the State column when one state is asked for, as ss prints it). Every call's args are kept.
 */
function fakeHost(now: () => SockRecord[], filter?: SockFilter) {
  const calls: string[][] = [];
  const host: Host = {
    name: 'sandbox',
    exec: async (_file, args) => {
      calls.push([...args]);
      const filtered = args.length > 1;
      if (filtered) expect(args).toEqual(ssArgs({ processes: args[0].includes('p'), ...readOptionsFor(filter!) }));
      const xs = filtered ? filterSockets(now(), filter!) : now();
      const oneState = filtered && typeof filter!.state === 'string';
      return xs.map((s) => (oneState ? formatRecord(s).replace(/^\S+\s+/, '') : formatRecord(s))).join('\n') + '\n';
    },
  };
  return { host, calls, full: () => calls.filter((c) => c.length === 1).length, narrow: () => calls.filter((c) => c.length > 1).length };
}

function sink(host: Host) {
  const t0 = Date.now();
  const samples: SampleRecord[] = [];
  const recorded: SnapshotRecord[] = [];
  const s: WaitSink = {
    host,
    signal: new AbortController().signal,
    now: () => Date.now() - t0,
    sample: (x) => samples.push(x),
    progress: () => {},
    record: (label, h, sockets, focus) => {
      const r = { label, host: h.name, atMs: Date.now() - t0, sockets, ...(focus ? { focus } : {}) };
      recorded.push(r);
      return r;
    },
  };
  return { s, samples, recorded };
}

const mine: SockFilter = { localPort: 40000, state: 'FIN-WAIT-2' };

describe('ss waits', () => {
  it('a wait with a filter polls only those sockets; the predicate sees only them', async () => {
    const world = base();
    const f = fakeHost(() => world, mine);
    const { s } = sink(f.host);
    setTimeout(() => world.push(sock('FIN-WAIT-2', '127.0.0.1:40000', '127.0.0.1:9000')), 40);
    const seen: number[] = [];
    const snap = await waitSs(s, 'the client in FIN-WAIT-2', (xs) => (seen.push(xs.length), xs.length === 1), { filter: mine });
    expect(f.full()).toBe(0);
    expect(f.narrow()).toBeGreaterThan(1);
    expect(Math.max(...seen)).toBe(1); // never the 301 others
    expect(snap.sockets.map((x) => x.local)).toEqual(['127.0.0.1:40000']);
    expect(snap.sockets[0].state).toBe('FIN-WAIT-2'); // parsed without ss's State column
  });

  it('a labelled wait records one full read at its end, with the filter as its focus', async () => {
    const world = [...base(), sock('FIN-WAIT-2', '127.0.0.1:40000', '127.0.0.1:9000')];
    const f = fakeHost(() => world, mine);
    const { s, recorded } = sink(f.host);
    const snap = await waitSs(s, 'x', (xs) => xs.length === 1, { filter: mine, label: 'the client' });
    expect([f.narrow(), f.full()]).toEqual([1, 1]);
    expect(f.calls.at(-1)).toEqual(['-tanoH']);
    expect(recorded).toEqual([snap]);
    expect(snap.sockets).toHaveLength(world.length);
    expect(snap.focus).toEqual(mine);
  });

  it('when the full read no longer satisfies the predicate, the wait goes on', async () => {
    let fullReads = 0;
    const world = base();
    const client = sock('FIN-WAIT-2', '127.0.0.1:40000', '127.0.0.1:9000');
    // the filtered reads see the client from the start; the first full read does not (it left in between)
    const f = fakeHost(() => world, mine);
    const exec = f.host.exec;
    f.host.exec = async (file, args) => {
      if (args.length === 1 && fullReads++ > 0) world.push(client);
      if (args.length > 1 && !world.includes(client)) return formatRecord(client).replace(/^\S+\s+/, '') + '\n';
      return exec(file, args);
    };
    const { s } = sink(f.host);
    const snap = await waitSs(s, 'x', (xs) => xs.length === 1, { filter: mine, label: 'l' });
    expect(f.full()).toBe(2);
    expect(filterSockets(snap.sockets, mine)).toHaveLength(1);
  });

  it('without a filter every poll is a full read, and the predicate sees every socket', async () => {
    const world = base();
    const f = fakeHost(() => world);
    const { s } = sink(f.host);
    let n = 0;
    await waitSs(s, 'x', (xs) => (expect(xs).toHaveLength(301), ++n === 3));
    expect([f.full(), f.narrow()]).toEqual([3, 0]);
  });

  it('a wait that shows progress samples full reads (every socket counted), at most one per 200 ms, and its last read', async () => {
    const world = base();
    const f = fakeHost(() => world, mine);
    const { s, samples } = sink(f.host);
    const t0 = Date.now();
    await waitSs(s, 'x', () => Date.now() - t0 >= 450, { filter: mine, intervalMs: 20, progress: true });
    expect(samples.length).toBeGreaterThanOrEqual(2);
    // one per 200 ms (timers fire late, never early), and the read that ended the wait
    samples.slice(1, -1).forEach((x, i) => expect(x.atMs - samples[i].atMs).toBeGreaterThanOrEqual(200));
    for (const x of samples) expect(x.counts).toEqual({ LISTEN: 1, 'TIME-WAIT': 300 });
    expect(f.narrow()).toBeGreaterThan(f.full()); // the polls between samples are filtered
  });

  it('waitForSockets: filtered polls; on a timeout, the sockets on its ports in any state', async () => {
    const world = [...base(), sock('ESTAB', '127.0.0.1:40000', '127.0.0.1:9000')];
    const near: SockFilter = { localPort: 40000 };
    const calls: string[][] = [];
    const host: Host = {
      name: 'sandbox',
      exec: async (_f, args) => {
        calls.push([...args]);
        const f = args.includes('state') ? mine : near;
        const xs = filterSockets(world, f);
        return xs.map((x) => (f === mine ? formatRecord(x).replace(/^\S+\s+/, '') : formatRecord(x))).join('\n') + '\n';
      },
    };
    const { s } = sink(host);
    const err = await waitForSockets(s, 'the client in FIN-WAIT-2', mine, { timeoutMs: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toMatch(/^no the client in FIN-WAIT-2 after \d+ ms; last seen: ESTAB .*127\.0\.0\.1:40000/);
    expect(calls.every((c) => c.length > 1)).toBe(true);
    world.push(sock('FIN-WAIT-2', '127.0.0.1:40000', '127.0.0.1:9001'));
    expect(await waitForSockets(s, 'x', mine)).toHaveLength(1);
  });
});

describe('sampleWhile with a filter', () => {
  it('reads only the filtered sockets, and counts only them', async () => {
    const world = [...base(), sock('FIN-WAIT-2', '127.0.0.1:40000', '127.0.0.1:9000')];
    const f = fakeHost(() => world, mine);
    const samples: SampleRecord[] = [];
    await sampleWhile('w', () => new Promise((r) => setTimeout(r, 60)), { hosts: [f.host], everyMs: 20, filter: mine }, { signal: new AbortController().signal, now: () => 0, push: (x) => samples.push(x) });
    expect(f.full()).toBe(0);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    for (const x of samples) expect(x.counts).toEqual({ 'FIN-WAIT-2': 1 });
  });
});

describe('until', () => {
  it("twenty waits at once on a run's stop signal: no leak warning, and none of them is left listening once they end", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const ac = stopController();
      let probes = 0;
      const waits = Array.from({ length: 20 }, () => until(async () => (++probes > 100 ? { done: true, value: 1 } : { done: false, last: 0 }), { what: 'x', timeoutMs: 5000, intervalMs: 5, signal: ac.signal }));
      await Promise.all(waits);
      await new Promise((r) => setImmediate(r)); // a warning is emitted on a later tick
      expect(warnings).toEqual([]);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('probes again after 1, 2, 4, 8, then every 10 ms by default', async () => {
    vi.useFakeTimers();
    try {
      const at: number[] = [];
      const t0 = Date.now();
      const done = until(async () => (at.push(Date.now() - t0), at.length === 8 ? { done: true, value: 1 } : { done: false, last: 0 }), { what: 'x', timeoutMs: 1000 });
      await vi.advanceTimersByTimeAsync(100);
      await done;
      expect(at).toEqual([0, 1, 3, 7, 15, 25, 35, 45]);
      at.length = 0;
      const slow = until(async () => (at.push(Date.now() - t0), at.length === 3 ? { done: true, value: 1 } : { done: false, last: 0 }), { what: 'x', timeoutMs: 1000, intervalMs: 50 });
      await vi.advanceTimersByTimeAsync(200);
      await slow;
      expect(at).toEqual([100, 150, 200]); // a given interval is kept from the start
    } finally {
      vi.useRealTimers();
    }
  });

  it('wake probes again at once, also when it fires while a probe runs', async () => {
    let notify = () => {};
    let ready = false;
    let unsubscribed = false;
    const t0 = Date.now();
    setTimeout(() => ((ready = true), notify()), 30);
    const v = await until(async () => (ready ? { done: true, value: Date.now() - t0 } : { done: false, last: 0 }), {
      what: 'x',
      timeoutMs: 5000,
      intervalMs: 2000,
      wake: (n) => ((notify = n), () => (unsubscribed = true)),
    });
    expect(v).toBeLessThan(500);
    expect(unsubscribed).toBe(true);
    let busy = true;
    let probes = 0;
    const w = await until(async () => {
      probes++;
      if (probes === 1) notify(); // arrives during the probe: no 2 s pause follows
      return probes === 2 ? { done: true, value: busy } : { done: false, last: 0 };
    }, { what: 'y', timeoutMs: 5000, intervalMs: 2000, wake: (n) => ((notify = n), () => {}) });
    busy = false;
    expect([w, probes]).toEqual([true, 2]);
  });

  it('a timeout says what it waited for and what an async describe read', async () => {
    await expect(until(async () => ({ done: false, last: 7 }), { what: 'the thing', timeoutMs: 20, describe: async (l) => `saw ${l}` })).rejects.toThrow(/^no the thing after \d+ ms; last seen: saw 7$/);
  });

  it('an abort ends the pause at once', async () => {
    const ac = stopController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 20);
    await expect(until(async () => ({ done: false, last: 0 }), { what: 'x', timeoutMs: 5000, intervalMs: 3000, signal: ac.signal })).rejects.toThrow(/interrupted while waiting for x/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
