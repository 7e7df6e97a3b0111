import lab from '../../labs/exit-linger.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { seconds: 2, closeMs: 2010, exitMs: 9, baselineMs: 8 as number | undefined, exit: 'SIGTERM', stateAfterExit: 'FIN-WAIT-1' as const, unsentAfterExit: 3_800_000 as number | undefined };

export default judgeCases('exit-linger', lab, [
  {
    name: 'Linux: the exit is immediate and leaves the data to the kernel',
    evidence: linux,
    expect: { 'exit-ignores-linger': 'confirmed' },
    observed: { 'exit-ignores-linger': /how much longer its exit took \(SIGTERM, 9 ms\) than that of a process with nothing to linger \(8 ms\): 1 ms/ },
  },
  { name: 'an emulated guest: both exits take a second, the one with a lingering socket no longer: confirmed', evidence: { ...linux, closeMs: 2408, exitMs: 1135, baselineMs: 1020 }, expect: { 'exit-ignores-linger': 'confirmed' } },
  { name: 'the exit waited the linger time and sent everything first: refuted', evidence: { ...linux, exitMs: 2015, unsentAfterExit: 0, stateAfterExit: 'TIME-WAIT' as never }, expect: { 'exit-ignores-linger': 'refuted' } },
  { name: 'on a slow machine the exit waited out l_linger, leaving data unsent: partly', evidence: { ...linux, exitMs: 3100, baselineMs: 1050 }, expect: { 'exit-ignores-linger': 'partly' } },
  { name: 'the exit was quick but nothing was left unsent: partly', evidence: { ...linux, unsentAfterExit: 0 }, expect: { 'exit-ignores-linger': 'partly' } },
  { name: 'the socket was not seen after the exit: inconclusive', evidence: { ...linux, unsentAfterExit: undefined }, expect: { 'exit-ignores-linger': 'inconclusive' } },
  { name: 'the process with nothing to linger was not timed: inconclusive', evidence: { ...linux, baselineMs: undefined }, expect: { 'exit-ignores-linger': 'inconclusive' } },
  { name: 'close() did not block either, so there was no delay to skip: inconclusive', evidence: { ...linux, closeMs: 3 }, expect: { 'exit-ignores-linger': 'inconclusive' } },
]);
