import lab from '../../labs/port-exhaustion.ts';
import { judgeCases } from '../judge-cases.ts';

const used = [40000, 40001, 40002, 40003];
const other = [{ result: 'ok', localPort: 40000, inTimeWait: true }, { result: 'ok', localPort: 40001, inTimeWait: true }];
const ev = { defaultRange: '32768 60999', size: 4, used, failure: 'EADDRNOTAVAIL' as string | undefined, allInTimeWait: true, other };

export default judgeCases('port-exhaustion', lab, [
  {
    name: 'Linux: exhausted, but with EADDRNOTAVAIL; the default range as stated',
    evidence: ev,
    expect: { 'exhaustion-connect-fails': 'partly', 'default-port-range': 'confirmed' },
    observed: { 'exhaustion-connect-fails': /EADDRNOTAVAIL \(claim: EADDRINUSE\)\. To another destination from the same range, 2\/2 connect\(\) calls succeeded, 2 of them from ports in TIME-WAIT/ },
  },
  { name: 'the article: EADDRINUSE', evidence: { ...ev, failure: 'EADDRINUSE' }, expect: { 'exhaustion-connect-fails': 'confirmed' } },
  { name: 'connect() never failed, another default range: refuted', evidence: { ...ev, failure: undefined, used: [...used, 40000, 40001, 40002, 40003, 40000], defaultRange: '1024 65535' }, expect: { 'exhaustion-connect-fails': 'refuted', 'default-port-range': 'refuted' } },
  { name: 'ports not all in TIME-WAIT when it failed: inconclusive', evidence: { ...ev, allInTimeWait: false }, expect: { 'exhaustion-connect-fails': 'inconclusive' } },
  { name: 'the default range was not read: inconclusive', evidence: { ...ev, defaultRange: undefined as unknown as string }, expect: { 'default-port-range': 'inconclusive' } },
]);
