import lab from '../../labs/tw-recycle.ts';
import { judgeCases } from '../judge-cases.ts';

const knobs = ['tcp_fin_timeout', 'tcp_max_tw_buckets', 'tcp_tw_reuse', 'tcp_tw_reuse_delay'];

export default judgeCases('tw-recycle', lab, [
  {
    name: 'the knob is gone (Linux >= 4.12): refuted',
    evidence: { knobs, exists: false, write: 'ENOENT' },
    expect: { 'tw-recycle-remedy': 'refuted' },
    observed: { 'tw-recycle-remedy': /^Counterexample: net\.ipv4\.tcp_tw_recycle among .*: no \(claim: yes\); writing 1 to it: ENOENT \(claim: ok\)/ },
  },
  {
    name: 'the knob exists (an old kernel): its effect is not measured, inconclusive',
    evidence: { knobs: [...knobs, 'tcp_tw_recycle'], exists: true, write: 'ok' },
    expect: { 'tw-recycle-remedy': 'inconclusive' },
    observed: { 'tw-recycle-remedy': /does not measure what it does/ },
  },
]);
