import lab from '../../labs/linger-zero.ts';
import { judgeCases } from '../judge-cases.ts';

type Row = { closeMs: number; right: 'TIME-WAIT' | 'absent' | 'FIN-WAIT-1'; sendQ: number; settled: 'TIME-WAIT' | 'absent'; rsts: number; aborts: number; serverSaw: string };
const fin: Row = { closeMs: 1, right: 'TIME-WAIT', sendQ: 0, settled: 'TIME-WAIT', rsts: 0, aborts: 0, serverSaw: 'FIN' };
const rst: Row = { closeMs: 1, right: 'absent', sendQ: 0, settled: 'absent', rsts: 1, aborts: 1, serverSaw: 'error ECONNRESET' };
const linux = { close: fin, linger0: rst, resetAndDestroy: rst, 'linger-n': fin, 'linger-n-blocked': { ...fin, right: 'FIN-WAIT-1' as const, sendQ: 3_000_000, closeMs: 1020 } };
const run = (rows: Partial<Record<keyof typeof linux, Row | null>> = {}) => ({
  seconds: 1,
  rows: (Object.keys(linux) as (keyof typeof linux)[]).map((mode) => {
    const r = mode in rows ? rows[mode] : linux[mode];
    return r ? { mode, evidence: r } : { mode, error: 'no TIME-WAIT or absent after 5000 ms' };
  }),
});

export default judgeCases('linger-zero', lab, [
  { name: 'Linux: only l_linger = 0 resets; a non-zero linger waits for the data', evidence: run(), expect: { 'linger-sends-rst': 'confirmed', 'linger-close-waits': 'confirmed' } },
  {
    name: 'no way of closing sends RST: refuted; close() returns at once despite undelivered data: refuted',
    evidence: run({ linger0: fin, resetAndDestroy: fin, 'linger-n-blocked': { ...fin, closeMs: 3 } }),
    expect: { 'linger-sends-rst': 'refuted', 'linger-close-waits': 'refuted' },
  },
  {
    name: 'close() blocks much longer than l_linger: partly',
    evidence: run({ 'linger-n-blocked': { ...fin, closeMs: 4000 } }),
    expect: { 'linger-close-waits': 'partly' },
  },
  {
    name: 'the plain close() baseline already resets: inconclusive',
    evidence: run({ close: rst }),
    expect: { 'linger-sends-rst': 'inconclusive' },
    observed: { 'linger-sends-rst': /a plain close\(\) sends FIN \(no abort\) and ends in TIME-WAIT: no/ },
  },
  {
    name: 'the peer sends an RST after a plain close() (answering a stray segment); the TIME-WAIT stays: the baseline still holds',
    evidence: run({ close: { ...fin, rsts: 1 } }),
    expect: { 'linger-sends-rst': 'confirmed' },
  },
  {
    name: 'a plain close() that aborted the connection itself: inconclusive',
    evidence: run({ close: { ...fin, rsts: 1, aborts: 1 } }),
    expect: { 'linger-sends-rst': 'inconclusive' },
  },
  {
    name: 'cells that did not settle: missing evidence',
    evidence: run({ close: null, 'linger-n-blocked': null }),
    expect: { 'linger-sends-rst': 'inconclusive', 'linger-close-waits': 'inconclusive' },
  },
]);
