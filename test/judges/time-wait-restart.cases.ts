import lab from '../../labs/time-wait-restart.ts';
import { judgeCases } from '../judge-cases.ts';

type Mode = 'none' | 'reuseaddr' | 'reuseport' | 'both';
const MODES: Mode[] = ['none', 'reuseaddr', 'reuseport', 'both'];
const served = (outcome: string, leftovers = 2) => ({ port: 20000, leftovers, outcome });
/** the TIME-WAIT matrix as Linux 6.x answers it: ok where both listeners share SO_REUSEADDR or SO_REUSEPORT */
const linux = (old: Mode, next: Mode) => {
  const has = (m: Mode, f: 'addr' | 'port') => m === 'both' || m === `reuse${f}`;
  return (has(old, 'addr') && has(next, 'addr')) || (has(old, 'port') && has(next, 'port')) ? 'ok' : 'bind EADDRINUSE';
};
const matrix = (f: (old: Mode, next: Mode) => string) => MODES.flatMap((old) => MODES.map((next) => ({ old, next, evidence: served(f(old, next)) })));
const others = (f: (state: string, next: Mode) => string) =>
  (['ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-2', 'LISTEN'] as const).flatMap((state) => (['none', 'reuseaddr'] as Mode[]).map((next) => ({ state, next, evidence: served(f(state, next)) })));
const linuxOthers = (state: string, next: Mode) => (next === 'reuseaddr' && state !== 'LISTEN' ? 'ok' : 'bind EADDRINUSE');
const nodeDefault = { reuseaddr: true, reuseport: false };

export default judgeCases('time-wait-restart', lab, [
  {
    name: 'Linux 6.x: EADDRINUSE without SO_REUSEADDR, SO_REUSEPORT binds over TIME-WAIT, only LISTEN blocks SO_REUSEADDR',
    evidence: { nodeDefault, tw: matrix(linux), others: others(linuxOthers) },
    expect: { 'restart-needs-reuseaddr': 'confirmed', 'reuseport-not-over-time-wait': 'refuted', 'reuseaddr-only-time-wait': 'refuted' },
    observed: {
      'restart-needs-reuseaddr': /new listener only: bind EADDRINUSE/,
      'reuseaddr-only-time-wait': /^Counterexample: restart reuseaddr -> reuseaddr over ESTAB: ok \(claim: bind EADDRINUSE\)/,
    },
  },
  {
    name: 'a kernel where the articles hold: every non-TIME-WAIT state blocks, SO_REUSEPORT alone fails',
    evidence: {
      nodeDefault,
      tw: matrix((old, next) => (next === 'reuseport' || next === 'none' ? 'bind EADDRINUSE' : linux(old, next))),
      others: others(() => 'bind EADDRINUSE'),
    },
    expect: { 'restart-needs-reuseaddr': 'confirmed', 'reuseport-not-over-time-wait': 'confirmed', 'reuseaddr-only-time-wait': 'confirmed' },
  },
  {
    name: 'restart without SO_REUSEADDR binds anyway: the claim is refuted in one part, so partly',
    evidence: { nodeDefault, tw: matrix(() => 'ok'), others: others(linuxOthers) },
    expect: { 'restart-needs-reuseaddr': 'partly' },
  },
  {
    name: 'SO_REUSEADDR does not help either: nothing of the claim holds',
    evidence: { nodeDefault, tw: matrix((old, next) => (old === 'none' && next === 'none' ? 'ok' : 'bind EADDRINUSE')), others: others(linuxOthers) },
    expect: { 'restart-needs-reuseaddr': 'refuted', 'reuseaddr-only-time-wait': 'inconclusive' },
    observed: { 'reuseaddr-only-time-wait': /SO_REUSEADDR restart works over TIME-WAIT: no/ },
  },
  {
    name: 'cells not run (--old none --new none): the claims that need them are inconclusive',
    options: { old: ['none'], new: ['none'] },
    evidence: { nodeDefault, tw: [{ old: 'none', next: 'none', evidence: served('bind EADDRINUSE') }], others: others(linuxOthers) },
    expect: { 'restart-needs-reuseaddr': 'inconclusive', 'reuseport-not-over-time-wait': 'inconclusive', 'reuseaddr-only-time-wait': 'inconclusive' },
  },
  {
    name: 'old sockets not seen when the cells were set up: missing evidence, inconclusive',
    evidence: {
      nodeDefault,
      tw: matrix(linux).map((c) => ({ ...c, evidence: { ...c.evidence, leftovers: 1 } })),
      others: others(linuxOthers).map((c) => ({ ...c, evidence: { ...c.evidence, leftovers: 0 } })),
    },
    expect: { 'restart-needs-reuseaddr': 'inconclusive', 'reuseport-not-over-time-wait': 'inconclusive', 'reuseaddr-only-time-wait': 'inconclusive' },
  },
  {
    name: 'a cell whose set-up timed out is missing evidence',
    evidence: {
      nodeDefault,
      tw: matrix(linux).map((c) => (c.old === 'reuseport' && c.next === 'reuseport' ? { old: c.old, next: c.next, error: 'no 2 x TIME-WAIT after 3000 ms' } : c)),
      others: others(linuxOthers).filter((c) => c.state !== 'CLOSE-WAIT'),
    },
    expect: { 'restart-needs-reuseaddr': 'confirmed', 'reuseport-not-over-time-wait': 'inconclusive', 'reuseaddr-only-time-wait': 'refuted' },
  },
]);
