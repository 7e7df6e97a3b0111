import lab from '../../labs/exit-linger.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = { seconds: 2, closeMs: 2010, exitMs: 9, exit: 'SIGTERM', stateAfterExit: 'FIN-WAIT-1' as const, unsentAfterExit: 3_800_000 };

export default judgeCases('exit-linger', lab, [
  { name: 'Linux: the exit is immediate and leaves the data to the kernel', evidence: linux, expect: { 'exit-ignores-linger': 'confirmed' } },
  { name: 'the exit waited the linger time and sent everything first: refuted', evidence: { ...linux, exitMs: 2005, unsentAfterExit: 0, stateAfterExit: 'TIME-WAIT' as never }, expect: { 'exit-ignores-linger': 'refuted' } },
  { name: 'the exit was quick but nothing was left unsent: partly', evidence: { ...linux, unsentAfterExit: 0 }, expect: { 'exit-ignores-linger': 'partly' } },
  { name: 'the socket was not seen after the exit: inconclusive', evidence: { ...linux, unsentAfterExit: undefined }, expect: { 'exit-ignores-linger': 'inconclusive' } },
  { name: 'close() did not block either, so there was no delay to skip: inconclusive', evidence: { ...linux, closeMs: 3 }, expect: { 'exit-ignores-linger': 'inconclusive' } },
]);
