// readSockets' filters: the ss command they make, how its output is read, and (in a real sandbox) that the
// kernel-side filter returns exactly what filtering the full read would.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readOptionsFor, readSockets, ssArgs, SS_FILTER_STATE } from '../../harness/evidence/read.ts';
import { SS_STATES } from '../../harness/evidence/ss.ts';
import type { Host } from '../../harness/kernel/host.ts';
import { probeArgs } from '../helpers.ts';

/** a host whose ss prints `out` and remembers what it was asked */
function fakeHost(out: string): Host & { asked: string[][] } {
  const asked: string[][] = [];
  return { name: 'fake', asked, exec: async (file, args) => (asked.push([file, ...args]), out) };
}

describe('ssArgs', () => {
  it('is the plain full read without options', () => {
    expect(ssArgs()).toEqual(['-tanoH']);
    expect(ssArgs({ processes: true })).toEqual(['-tanopH']);
  });

  it('puts states and ports in ss filter syntax, states sorted and once each', () => {
    expect(ssArgs({ states: ['TIME-WAIT', 'ESTAB', 'TIME-WAIT'], ports: [9000] })).toEqual(['-tanoH', 'state', 'established', 'state', 'time-wait', '(', 'sport', '=', ':9000', 'or', 'dport', '=', ':9000', ')']);
    expect(ssArgs({ localPorts: [1, 2], peerPorts: [3] })).toEqual(['-tanoH', '(', 'sport', '=', ':1', 'or', 'sport', '=', ':2', ')', 'and', '(', 'dport', '=', ':3', ')']);
    expect(ssArgs({ states: [], ports: [] })).toEqual(['-tanoH']);
  });

  it('knows an ss filter name for every state and refuses what is not a port', () => {
    for (const s of SS_STATES) expect(SS_FILTER_STATE[s]).toMatch(/^[a-z0-9-]+$/);
    expect(() => ssArgs({ ports: [70000] })).toThrow(/not a port/);
    expect(() => ssArgs({ peerPorts: [1.5] })).toThrow(/not a port/);
  });
});

describe('readSockets', () => {
  it('reads a one-state answer, which has no State column', async () => {
    const h = fakeHost('0      0      127.0.0.1:33016 127.0.0.1:9000 timer:(timewait,59sec,0)\n');
    const recs = await readSockets(h, { states: ['TIME-WAIT'], peerPorts: [9000] });
    expect(h.asked[0]).toEqual(['ss', '-tanoH', 'state', 'time-wait', '(', 'dport', '=', ':9000', ')']);
    expect(recs).toEqual([{ state: 'TIME-WAIT', recvQ: 0, sendQ: 0, local: '127.0.0.1:33016', peer: '127.0.0.1:9000', timer: { name: 'timewait', remainingMs: 59_000, retransmits: 0, raw: 'timer:(timewait,59sec,0)' } }]);
  });

  it('parses while a streaming host hands the output over, without calling exec', async () => {
    const pieces = ['LISTEN 0 511 127.0.0.1:9000 0.0.0.0:*\nTIME-WAIT 0 0 127.0.0.1:5 127.', '0.0.1:9000 timer:(timewait,59sec,0)\n'];
    const exec = fakeHost('');
    const host = { ...exec, stream: async (file: string, args: readonly string[], onText: (t: string) => void) => { exec.asked.push(['stream', file, ...args]); pieces.forEach(onText); } };
    const recs = await readSockets(host, { ports: [9000] });
    expect(exec.asked).toEqual([['stream', 'ss', '-tanoH', '(', 'sport', '=', ':9000', 'or', 'dport', '=', ':9000', ')']]);
    expect(recs.map((r) => `${r.state} ${r.local}`)).toEqual(['LISTEN 127.0.0.1:9000', 'TIME-WAIT 127.0.0.1:5']);
  });

  it('turns a SockFilter into kernel-side options that pick a superset of it', () => {
    expect(readOptionsFor({ port: 1, state: 'LISTEN' })).toEqual({ states: ['LISTEN'], ports: [1] });
    expect(readOptionsFor({ localPort: 2, peerPort: 3, state: ['ESTAB', 'CLOSE-WAIT'] })).toEqual({ states: ['ESTAB', 'CLOSE-WAIT'], localPorts: [2], peerPorts: [3] });
    expect(readOptionsFor({ state: [] })).toEqual({});
    expect(readOptionsFor({})).toEqual({});
  });

  it('in a sandbox: every filtered read is the full read filtered', () => {
    const probe = fileURLToPath(new URL('./probes/read-filter.ts', import.meta.url));
    const out = execFileSync('unshare', ['--user', '--map-root-user', '--net', process.execPath, ...probeArgs(probe)], { encoding: 'utf8', timeout: 30_000 });
    const { total, results } = JSON.parse(out.trim().split('\n').pop()!) as { total: number; results: { options: object; got: string[]; streamed: string[]; want: string[] }[] };
    expect(total).toBe(21); // 1+6 on :9000, 1+5 on :9001, 1+4 on :9002, 1+2 on :9003
    for (const r of results) {
      expect(r.got, JSON.stringify(r.options)).toEqual(r.want);
      expect(r.streamed, `streamed ${JSON.stringify(r.options)}`).toEqual(r.want);
    }
    expect(results.filter((r) => r.want.length > 0 && r.want.length < total).length).toBeGreaterThan(8);
  });
});
