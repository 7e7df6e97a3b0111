// Large snapshots in result.json: counts plus the sockets that matter, every line in snapshots/; the reports read
// compact snapshots as they read whole ones.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { census } from '../../harness/evidence/census.ts';
import { COMPACT_OVER, KEEP_FOCUSED, keptSockets, snapshotCounts, snapshotTotal, storedSnapshot } from '../../harness/evidence/compact.ts';
import type { LabResult, SnapshotRecord } from '../../harness/evidence/records.ts';
import { parseSs, type SockRecord } from '../../harness/evidence/ss.ts';
import { changeLine, censusLine, snapshotLines } from '../../harness/report/story.ts';
import { renderWriteup } from '../../harness/report/writeup.ts';
import { createRunDir, storedResult, writeLabResult } from '../../harness/results/store.ts';
import { assertContract } from '../schema.ts';
import { segmentsOfPcap } from '../../harness/evidence/packets.ts';
import { renderLadder } from '../../harness/report/ladder.ts';

const sock = (state: SockRecord['state'], local: string, peer: string): SockRecord => ({ state, recvQ: 0, sendQ: 0, local, peer });
/** a listener, n TIME-WAIT to :9000 and 5 ESTAB to :9001, in the order ss would mix them */
function many(n: number): SockRecord[] {
  const out = [sock('LISTEN', '127.0.0.1:9000', '0.0.0.0:*')];
  for (let i = 0; i < n; i++) {
    out.push(sock('TIME-WAIT', `127.0.0.1:${20000 + i}`, '127.0.0.1:9000'));
    if (i % 100 === 50) out.push(sock('ESTAB', `127.0.0.1:${50000 + i}`, '127.0.0.1:9001'));
  }
  return out;
}
const snap = (sockets: SockRecord[], extra: Partial<SnapshotRecord> = {}): SnapshotRecord => ({ label: 'ports exhausted', host: 'client', atMs: 900, sockets, ...extra });

describe('compact snapshots', () => {
  it(`keeps a snapshot of up to ${COMPACT_OVER} sockets whole, without its focus`, () => {
    const s = snap(many(150), { focus: { port: 9001 } });
    expect(s.sockets.length).toBeLessThanOrEqual(COMPACT_OVER);
    expect(storedSnapshot(s, 'snapshots/01-x.txt')).toEqual(snap(many(150)));
  });

  it('stores a large one as counts, the focused sockets (capped) and a few of every state, and names its file', () => {
    const all = many(30000);
    const c = storedSnapshot(snap(all, { focus: { peerPort: 9000, state: 'TIME-WAIT' } }), 'snapshots/01-client-ports-exhausted.txt');
    expect(c.total).toBe(all.length);
    expect(c.counts).toEqual(census(all));
    expect(Object.keys(c.counts!)).toEqual(['ESTAB', 'LISTEN', 'TIME-WAIT']);
    expect(c.file).toBe('snapshots/01-client-ports-exhausted.txt');
    expect(c.focus).toEqual({ peerPort: 9000, state: 'TIME-WAIT' });
    const tw = c.sockets.filter((s) => s.state === 'TIME-WAIT');
    expect(tw).toEqual(all.filter((s) => s.state === 'TIME-WAIT').slice(0, KEEP_FOCUSED));
    expect(c.sockets.filter((s) => s.state === 'ESTAB')).toHaveLength(3);
    expect(c.sockets.filter((s) => s.state === 'LISTEN')).toHaveLength(1);
    expect(c.sockets).toEqual(all.filter((s) => c.sockets.includes(s))); // ss order
    expect(JSON.stringify(c).length).toBeLessThan(30_000); // against ~3.5 MB whole
    expect([snapshotTotal(c), snapshotCounts(c)]).toEqual([all.length, census(all)]);
    expect(() => assertContract({ ...result([c]) })).not.toThrow();
    expect(() => assertContract({ ...result([{ ...c, file: undefined }]) })).toThrow(/file/);
  });

  it('without a focus, keeps ten of every state', () => {
    const kept = keptSockets(many(1000));
    expect(census(kept)).toEqual({ LISTEN: 1, 'TIME-WAIT': 10, ESTAB: 10 });
  });

  it('the reports read counts, the excerpt and the changes of compact snapshots', () => {
    const before = storedSnapshot(snap(many(20000), { label: 'half way' }), 'snapshots/01-client-half-way.txt');
    const after = storedSnapshot(snap(many(30000), { focus: { port: 9001 } }), 'snapshots/02-client-ports-exhausted.txt');
    expect(censusLine(after)).toBe('TIME-WAIT 30000, ESTAB 300, LISTEN 1 (TIME_WAIT 30000, ESTABLISHED 300, LISTEN 1)');
    const { lines, more } = snapshotLines(after);
    expect({ lines, more }).toEqual(snapshotLines(snap(many(30000)))); // the excerpt the whole snapshot gives
    expect([lines.length, more]).toEqual([7, 30301 - 7]);
    expect(changeLine(before, after)).toBe('since "half way": ESTAB +100, TIME-WAIT +10,000');
    expect(changeLine(after, after)).toBe('since "ports exhausted": no change in the counts');
  });
});

function result(snapshots: SnapshotRecord[]): LabResult {
  return {
    schemaVersion: 4, lab: 'demo', title: 'Demo', outcome: 'ran', kernel: 'Linux 6.18.0 x86_64', ranOn: 'host',
    startedAt: '2026-12-01T09:00:00.000Z', durationMs: 1, sysctls: {}, options: {}, claims: [], snapshots, events: [], tables: [],
  };
}

describe('results store with a large snapshot', () => {
  it('result.json holds it compactly; snapshots/ has every line; the writeup links the file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tcplab-compact-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const all = many(5000);
    const small = parseSs('LISTEN 0 128 127.0.0.1:9000 0.0.0.0:*\n');
    const r = result([snap(small, { label: 'listening', focus: { port: 9000 } }), snap(all, { focus: { port: 9001 } })]);
    const dir = await writeLabResult(await createRunDir(root), r);
    const stored = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as LabResult;
    expect(stored).toEqual(storedResult(r));
    expect(stored.snapshots[0]).toEqual({ label: 'listening', host: 'client', atMs: 900, sockets: small });
    expect(stored.snapshots[1]).toMatchObject({ total: all.length, file: 'snapshots/02-client-ports-exhausted.txt' });
    const text = readFileSync(path.join(dir, stored.snapshots[1].file!), 'utf8').trim().split('\n');
    expect(text[0]).toBe(`# ports exhausted (host client, +900 ms, ${all.length} sockets)`);
    expect(parseSs(text.slice(1).join('\n'))).toEqual(all);
    const md = readFileSync(path.join(dir, 'writeup.md'), 'utf8');
    expect(md).toContain(`more socket(s) in [snapshots/02-client-ports-exhausted.txt]`);
    expect(md).toContain('result.json keeps 1 large one(s) as counts and the sockets that matter');
    expect(renderWriteup(stored, [], { titles: {} })).toContain('TIME-WAIT 5000, ESTAB 50, LISTEN 1');
    assertContract(stored);
  });
});

describe('ladder bands from compact snapshots', () => {
  it('a socket a compact snapshot did not keep is not drawn as gone', () => {
    const segs = segmentsOfPcap(readFileSync(path.resolve(import.meta.dirname, '../fixtures/pcap/close-four-way.pcap'))).segments;
    const start = segs[0].tUs - 10_000;
    const at = (i: number) => (segs[i].tUs - start) / 1000 + 0.5;
    const ss = (text: string) => parseSs(text);
    const snaps: SnapshotRecord[] = [
      { label: 'connected', host: 'lab', atMs: at(4), sockets: ss('ESTAB 0 0 127.0.0.1:40000 127.0.0.1:9000\nESTAB 0 0 127.0.0.1:9000 127.0.0.1:40000') },
      // compact: kept only the client end; the server end is among the 5,000 others, not gone
      { label: 'closed', host: 'lab', atMs: at(8), sockets: ss('TIME-WAIT 0 0 127.0.0.1:40000 127.0.0.1:9000'), total: 5001, counts: { 'TIME-WAIT': 5001 }, file: 'snapshots/02-lab-closed.txt' },
    ];
    const bands = (xs: SnapshotRecord[]) => (renderLadder({ title: 't', segments: segs, labStartUs: start, snapshots: xs }).svg.match(/<title>[^<]*<\/title>/g) ?? []).filter((t) => / from [\d.]+ ms \(snapshot/.test(t));
    const compact = bands(snaps);
    expect(compact.some((t) => t.includes('127.0.0.1:40000 ↔ 127.0.0.1:9000: TIME-WAIT'))).toBe(true);
    expect(compact.some((t) => t.includes('(gone)'))).toBe(false);
    const whole = bands([snaps[0], { ...snaps[1], total: undefined, counts: undefined, file: undefined }]);
    expect(whole.some((t) => t.includes('127.0.0.1:9000 ↔ 127.0.0.1:40000: (gone)'))).toBe(true);
  });
});
