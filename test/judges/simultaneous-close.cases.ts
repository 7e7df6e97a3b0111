import lab from '../../labs/simultaneous-close.ts';
import { judgeCases } from '../judge-cases.ts';

const linux = {
  trials: 10, gap: 300, outcomes: Array(10).fill('TIME-WAIT / absent') as string[], crossed: 0,
  finsDropped: 2, serverWhenLost: 'ESTAB', clientHeld: 'CLOSING', serverWhileClosing: 'FIN-WAIT-2', finally: 'TIME-WAIT / TIME-WAIT',
};
type Ev = typeof linux & { serverWhenLost: never; clientHeld: never; serverWhileClosing: never };
const ev = (o: Partial<Record<keyof typeof linux, unknown>>) => ({ ...linux, ...o }) as unknown as Ev;

export default judgeCases('simultaneous-close', lab, [
  {
    name: 'loopback: same-instant closes never crossed; a lost FIN gave CLOSING: partly / confirmed',
    evidence: ev({}),
    expect: { 'closing-simultaneous': 'partly', 'closing-meaning': 'confirmed' },
    observed: { 'closing-simultaneous': /0 of 10 \(claim: 10 of 10\)/ },
  },
  {
    name: '--gap 0: the sentence states the measured 0 ms, nothing about closes far apart',
    options: { gap: 0 },
    evidence: ev({ gap: 0 }),
    expect: { 'closing-simultaneous': 'partly' },
    observed: { 'closing-simultaneous': /server closed 0 ms later\): yes/ },
  },
  { name: 'every same-instant close crossed: confirmed', evidence: ev({ crossed: 10, outcomes: Array(10).fill('TIME-WAIT / TIME-WAIT') }), expect: { 'closing-simultaneous': 'confirmed' } },
  {
    name: 'no crossing and no CLOSING at all: refuted; the article does not hold but CLOSING was held: partly',
    evidence: ev({ clientHeld: 'FIN-WAIT-1' }),
    expect: { 'closing-simultaneous': 'refuted', 'closing-meaning': 'inconclusive' },
  },
  { name: 'CLOSING held but the server was not in FIN-WAIT-2, ends not both TIME-WAIT: partly', evidence: ev({ serverWhileClosing: 'LAST-ACK', finally: 'TIME-WAIT / absent' }), expect: { 'closing-meaning': 'partly' } },
  { name: 'CLOSING held but nothing in it as the article says: refuted', evidence: ev({ serverWhenLost: 'CLOSE-WAIT', serverWhileClosing: 'LAST-ACK', finally: 'absent / absent' }), expect: { 'closing-meaning': 'refuted' } },
  { name: 'the same-instant closes were not all read back: inconclusive', evidence: ev({ outcomes: ['TIME-WAIT / absent'] }), expect: { 'closing-simultaneous': 'inconclusive' } },
  { name: 'the FIN was never dropped: inconclusive', evidence: ev({ finsDropped: 0 }), expect: { 'closing-meaning': 'inconclusive' } },
]);
