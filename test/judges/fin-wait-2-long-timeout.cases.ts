import lab from '../../labs/fin-wait-2-long-timeout.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { lifeMs: 20546, finTimeout: 70, closeToReadMs: 6, timer: 'keepalive', remainingMs: 9996, raw: 'timer:(keepalive,9.996ms,0)', nextState: 'FIN-WAIT-2', next: 'timewait', nextMs: 9980, nextRaw: 'timer:(timewait,9.980ms,0)' } as Record<string, unknown>;
type Ev = Parameters<typeof lab.judge>[0];
const ev = (o: Record<string, unknown> = {}) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('fin-wait-2-long-timeout', lab, [
  { name: 'keepalive for (timeout - 60 s), then the FIN-WAIT-2 timer', evidence: ev(), expect: { 'long-fin-timeout-keepalive-timer': 'confirmed' }, observed: { 'long-fin-timeout-keepalive-timer': /gone 20546 ms after/ } },
  { name: 'a FIN-WAIT-2 timer of the full timeout from the start: refuted', evidence: ev({ timer: 'timewait', remainingMs: 70_000, next: 'none', nextState: 'absent' }), expect: { 'long-fin-timeout-keepalive-timer': 'refuted' } },
  { name: 'a keepalive timer of the wrong length: partly', evidence: ev({ remainingMs: 70_000 }), expect: { 'long-fin-timeout-keepalive-timer': 'partly' } },
  { name: 'no timer on the orphan at all: refuted', evidence: ev({ timer: 'none', remainingMs: undefined, next: 'gone' }), expect: { 'long-fin-timeout-keepalive-timer': 'refuted' } },
  { name: 'a slow machine read it 1.2 s after the close: the range still holds the 10 s it was armed with', evidence: ev({ remainingMs: 8810, closeToReadMs: 1200 }), expect: { 'long-fin-timeout-keepalive-timer': 'confirmed' } },
  { name: 'read 1.2 s after the close, for a 2 s timer: too late to tell its length, inconclusive', evidence: ev({ finTimeout: 62, remainingMs: 896, closeToReadMs: 1200 }), expect: { 'long-fin-timeout-keepalive-timer': 'inconclusive' }, observed: { 'long-fin-timeout-keepalive-timer': /first read 1200 ms after the close, for a timer of 2000 ms/ } },
  { name: 'nothing read: inconclusive', evidence: ev({ timer: undefined, remainingMs: undefined, next: undefined }), expect: { 'long-fin-timeout-keepalive-timer': 'inconclusive' } },
]);
