import lab from '../../labs/all-states.ts';
import { judgeCases } from '../judge-cases.ts';

const STATES = ['CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECV', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'];
const proofs = (seen: (s: string) => string = (s) => s) => STATES.map((state) => ({ state, side: 'client', how: 'its step', seen: seen(state), line: `${state} 0 0 127.0.0.1:1 127.0.0.1:2`, snapshot: state }));

export default judgeCases('all-states', lab, [
  { name: 'every state seen on its end after its step', evidence: { proofs: proofs() }, expect: { 'eleven-states': 'confirmed' } },
  {
    name: 'CLOSING never appeared, the end was still FIN-WAIT-1: partly',
    evidence: { proofs: proofs((s) => (s === 'CLOSING' ? 'FIN-WAIT-1' : s)) },
    expect: { 'eleven-states': 'partly' },
    observed: { 'eleven-states': /CLOSING: the client end after its step: FIN-WAIT-1 \(claim: CLOSING\)/ },
  },
  { name: 'no state where the article puts it: refuted', evidence: { proofs: proofs(() => 'absent') }, expect: { 'eleven-states': 'refuted' } },
  { name: 'a state not recorded at all (the lab stopped before it): inconclusive', evidence: { proofs: proofs().filter((p) => p.state !== 'TIME-WAIT') }, expect: { 'eleven-states': 'inconclusive' } },
]);
