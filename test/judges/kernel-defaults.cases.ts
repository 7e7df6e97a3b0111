import lab from '../../labs/kernel-defaults.ts';
import { judgeCases } from '../judge-cases.ts';

const debian = { timestamps: '1', initSoft: 1024, initHard: 524288, ownSoft: 524288, ownHard: 524288, finTimeout: '60' as string | undefined, closeWaitKnobs: [] as string[] };

export default judgeCases('kernel-defaults', lab, [
  { name: 'a systemd machine: timestamps on, 1024 soft, only FIN-WAIT-2 has a knob', evidence: debian, expect: { 'timestamps-default-on': 'confirmed', 'nofile-default-1024': 'confirmed', 'finwait2-closewait-timeouts': 'partly' } },
  { name: 'a container with a raised limit, timestamps off', evidence: { ...debian, timestamps: '0', initSoft: 32768 }, expect: { 'timestamps-default-on': 'refuted', 'nofile-default-1024': 'refuted' } },
  { name: 'neither knob exists: refuted', evidence: { ...debian, finTimeout: undefined }, expect: { 'finwait2-closewait-timeouts': 'refuted' } },
  { name: 'a kernel with a CLOSE-WAIT knob', evidence: { ...debian, closeWaitKnobs: ['net.ipv4.tcp_close_wait_timeout'] }, expect: { 'finwait2-closewait-timeouts': 'confirmed' } },
  {
    name: 'nothing read (a kernel without the files): inconclusive',
    evidence: { ...debian, timestamps: undefined as unknown as string, initSoft: undefined as unknown as number },
    expect: { 'timestamps-default-on': 'inconclusive', 'nofile-default-1024': 'inconclusive' },
  },
  { name: 'FIN-WAIT-2 knob not read: inconclusive', evidence: { ...debian, finTimeout: undefined, closeWaitKnobs: undefined as unknown as string[] }, expect: { 'finwait2-closewait-timeouts': 'inconclusive' } },
]);
