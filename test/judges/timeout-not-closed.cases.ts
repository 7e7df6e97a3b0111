import lab from '../../labs/timeout-not-closed.ts';
import { judgeCases } from '../judge-cases.ts';

type St = 'ESTAB' | 'absent';
type Name = 'socket.setTimeout' | 'recv(2) with SO_RCVTIMEO' | 'send(2) with SO_SNDTIMEO';
const appRow = (name: Name, returned: string, client: St = 'ESTAB', server: St = 'ESTAB', timedOut = true) => ({ name, returned, client, server, afterwards: 'client recv(2) afterwards: 10 bytes', timedOut });
const app = (s: St = 'ESTAB') => [appRow('socket.setTimeout', "'timeout' event", s, s), appRow('recv(2) with SO_RCVTIMEO', '-1 EAGAIN', s, s), appRow('send(2) with SO_SNDTIMEO', '-1 EAGAIN', s, s)];
const dead = (how: string, tookMs: number, code = 'ETIMEDOUT', client: St = 'absent', timer: string | undefined = 'timer:(on,404ms,1)') => ({ how, timer, code, tookMs, client, server: 'ESTAB' as St });
const silent = () => [dead('TCP_USER_TIMEOUT 1000 ms', 1444), dead('tcp_retries2 = 2', 3339), dead('keepalive 1/1/2', 3049)];

export default judgeCases('timeout-not-closed', lab, [
  { name: 'Linux: app timeouts leave both ends ESTABLISHED; kernel timeouts end it with ETIMEDOUT', evidence: { app: app(), silent: silent() }, expect: { 'send-recv-timeout-closes': 'refuted', 'kernel-timeout-closes': 'confirmed' } },
  {
    name: 'a kernel that closes on an app timeout: confirmed; one that never gives up: refuted',
    evidence: { app: app('absent'), silent: silent().map((d) => ({ ...d, code: 'ECONNRESET', client: 'ESTAB' as St })) },
    expect: { 'send-recv-timeout-closes': 'confirmed', 'kernel-timeout-closes': 'refuted' },
  },
  {
    name: 'keepalive leaves the client socket listed: partly',
    evidence: { app: app(), silent: [...silent().slice(0, 2), dead('keepalive 1/1/2', 3049, 'ETIMEDOUT', 'ESTAB')] },
    expect: { 'kernel-timeout-closes': 'partly' },
  },
  {
    name: 'a timeout that did not fire, and no timer seen: inconclusive',
    evidence: { app: [appRow('socket.setTimeout', "'timeout' event"), appRow('recv(2) with SO_RCVTIMEO', '5 bytes', 'ESTAB', 'ESTAB', false), appRow('send(2) with SO_SNDTIMEO', '-1 EAGAIN')], silent: [dead('TCP_USER_TIMEOUT 1000 ms', 1444, 'ETIMEDOUT', 'absent', ''), ...silent().slice(1)] },
    expect: { 'send-recv-timeout-closes': 'inconclusive', 'kernel-timeout-closes': 'inconclusive' },
    observed: { 'send-recv-timeout-closes': /every timeout fired: no \(.*recv\(2\) with SO_RCVTIMEO: 5 bytes/ },
  },
]);
