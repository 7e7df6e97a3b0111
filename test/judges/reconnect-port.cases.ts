import lab from '../../labs/reconnect-port.ts';
import { judgeCases } from '../judge-cases.ts';

export default judgeCases('reconnect-port', lab, [
  {
    name: 'new port, old one in TIME-WAIT and refused: confirmed',
    evidence: { oldPort: 41000, newPort: 41002, oldState: 'TIME-WAIT', sameOldPort: 'EADDRINUSE' },
    expect: { 'reconnect-new-port': 'confirmed' },
    observed: { 'reconnect-new-port': /reconnect \(the old one was 41000\): 41002/ },
  },
  {
    name: 'the old port is free and reused at once: refuted',
    evidence: { oldPort: 41000, newPort: 41000, oldState: 'absent', sameOldPort: 'connected' },
    expect: { 'reconnect-new-port': 'refuted' },
  },
  {
    name: 'a new port although the old one was already gone and usable: partly (the "because" does not hold)',
    evidence: { oldPort: 41000, newPort: 41002, oldState: 'absent', sameOldPort: 'connected' },
    expect: { 'reconnect-new-port': 'partly' },
  },
  {
    name: 'no snapshot state recorded: inconclusive',
    evidence: { oldPort: 41000, newPort: 41002, sameOldPort: 'EADDRINUSE' } as never,
    expect: { 'reconnect-new-port': 'inconclusive' },
  },
]);
