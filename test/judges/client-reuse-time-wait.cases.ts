import lab from '../../labs/client-reuse-time-wait.ts';
import { judgeCases } from '../judge-cases.ts';

type Cell = { old: 'plain' | 'reuseaddr' | 'reuseport'; new: 'reuseaddr' | 'reuseport'; wait: 'at once' | 'after 1.1 s'; twReuse: string; evidence?: { ageMs: number; bind: string; connect: string; timeWaitLeft: number; established: number }; error?: string };
const cell = (old: Cell['old'], neu: Cell['new'], wait: Cell['wait'], took: boolean, twReuse = '2'): Cell => ({
  old, new: neu, wait, twReuse,
  evidence: took ? { ageMs: wait === 'at once' ? 1 : 1101, bind: 'ok', connect: 'ok', timeWaitLeft: 0, established: 1 } : { ageMs: 1, bind: 'EADDRINUSE', connect: 'not tried', timeWaitLeft: 1, established: 0 },
});

export default judgeCases('client-reuse-time-wait', lab, [
  {
    name: 'same option on both sockets takes over at once (as measured on 6.18): confirmed',
    evidence: { defaultValue: '2', timestamps: '1', cells: [cell('plain', 'reuseaddr', 'at once', false), cell('reuseaddr', 'reuseaddr', 'at once', true), cell('reuseaddr', 'reuseaddr', 'at once', true, '0')] },
    expect: { 'reuse-option-takes-over': 'confirmed' },
    observed: { 'reuse-option-takes-over': /With tcp_tw_reuse=0 it took over in: tcp_tw_reuse=0, reuseaddr -> reuseaddr, at once/ },
  },
  {
    name: 'never at once, only after 1 s: refuted',
    evidence: { defaultValue: '2', timestamps: '1', cells: [cell('reuseaddr', 'reuseaddr', 'at once', false), cell('reuseaddr', 'reuseaddr', 'after 1.1 s', true)] },
    expect: { 'reuse-option-takes-over': 'refuted' },
  },
  {
    name: 'a connect that worked but left the TIME-WAIT in place does not count: refuted',
    evidence: { defaultValue: '2', timestamps: '1', cells: [{ ...cell('reuseaddr', 'reuseaddr', 'at once', true), evidence: { ageMs: 1, bind: 'ok', connect: 'ok', timeWaitLeft: 1, established: 1 } }] },
    expect: { 'reuse-option-takes-over': 'refuted' },
  },
  {
    name: 'no cell ran: inconclusive',
    evidence: { defaultValue: '2', timestamps: '1', cells: [{ old: 'plain', new: 'reuseaddr', wait: 'at once', twReuse: '2', error: 'timeout' }] },
    expect: { 'reuse-option-takes-over': 'inconclusive' },
  },
]);
