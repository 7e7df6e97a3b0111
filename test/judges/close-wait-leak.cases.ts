import lab from '../../labs/close-wait-leak.ts';
import { judgeCases } from '../judge-cases.ts';

const leak = (closeWait: number, held = closeWait, timers = 0) => ({ closeWait, held, timers });
const linux = {
  nofile: 64, limits: 'Max open files 64 64 files', fdsAtStart: 27, accepted: 38, error: { code: 'EMFILE', kept: 38, fds: 'limit' } as { code: string; kept: number; fds: string } | undefined, queued: 1,
  finTimeout: 1, watchedMs: 2165, full: leak(38), later: leak(38), closedCount: 38, fdsAfterClose: 27, next: 'accepted', fixed: leak(0),
};

export default judgeCases('close-wait-leak', lab, [
  { name: 'Linux: no timer, EMFILE, close() cures it', evidence: linux, expect: { 'close-wait-no-timeout': 'confirmed', 'close-wait-exhausts-fds': 'confirmed', 'close-fixes-it': 'confirmed' } },
  {
    name: 'sockets went away with a timer; accept never failed; after close() still CLOSE-WAIT and no accept: refuted',
    evidence: { ...linux, later: leak(10, 10, 10), error: undefined, full: leak(38, 0), fixed: leak(5), next: 'nothing within 3 s' },
    expect: { 'close-wait-no-timeout': 'refuted', 'close-wait-exhausts-fds': 'refuted', 'close-fixes-it': 'refuted' },
  },
  {
    name: 'a timer armed (refutes "no timeout ever"); ENFILE instead of EMFILE; close() clears but accept fails: partly',
    evidence: { ...linux, later: leak(38, 38, 38), error: { code: 'ENFILE', kept: 38, fds: '64' }, next: 'EMFILE' },
    expect: { 'close-wait-no-timeout': 'refuted', 'close-wait-exhausts-fds': 'partly', 'close-fixes-it': 'partly' },
  },
  {
    name: '--wait 0: a 0 s watch cannot show that nothing ends CLOSE-WAIT: inconclusive',
    options: { wait: 0 },
    evidence: { ...linux, watchedMs: 3 },
    expect: { 'close-wait-no-timeout': 'inconclusive' },
    observed: { 'close-wait-no-timeout': /it lasted 3 ms/ },
  },
  {
    name: 'nothing leaked or accepted, the cure not applied: inconclusive',
    evidence: { ...linux, accepted: 0, full: leak(0), later: leak(0), closedCount: 0, error: { code: 'EMFILE', kept: 0, fds: 'limit' } },
    expect: { 'close-wait-no-timeout': 'inconclusive', 'close-wait-exhausts-fds': 'inconclusive', 'close-fixes-it': 'inconclusive' },
  },
]);
