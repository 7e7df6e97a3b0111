import { describe, expect, it } from 'vitest';
import { runForTest, verdictOf } from '../helpers.ts';
import { portOf } from '../state-helpers.ts';

describe('fin-wait-2-timeout lab', () => {
  it('sees the orphan reaped by its timer while the half-closed socket outlives it', async () => {
    const r = await runForTest('fin-wait-2-timeout', { 'fin-timeout': 2, outlive: 2, port: 9000 });
    expect(r.outcome).toBe('ran');
    expect(r.sysctls['net.ipv4.tcp_fin_timeout']).toBe('2');
    const first = r.snapshots.find((s) => s.label === 'just after the calls')!;
    const fw2 = first.sockets.filter((s) => s.state === 'FIN-WAIT-2' && portOf(s.peer) === 9000);
    const orphan = fw2.find((s) => s.timer);
    const half = fw2.find((s) => !s.timer);
    const samples = r.snapshots.filter((s) => s.label.startsWith('t='));
    const has = (snap: (typeof samples)[number], local?: string) => !!local && snap.sockets.some((s) => s.local === local && s.peer.endsWith(':9000'));
    const reaped = samples.some((s) => !has(s, orphan?.local));
    expect(verdictOf(r, 'orphan-fin-wait-2-reaped') === 'confirmed').toBe(!!orphan && orphan.timer!.name === 'timewait' && reaped);
    expect(verdictOf(r, 'shutdown-fin-wait-2-unbounded') === 'confirmed').toBe(!!half && reaped && samples.every((s) => has(s, half.local)));
    // the TCP_LINGER2=-1 client: only two client sockets ever showed FIN-WAIT-2
    expect(fw2.length).toBe(2);
    expect(['confirmed', 'refuted']).toContain(verdictOf(r, 'linger2-negative-skips'));
    expect(verdictOf(r, 'linger2-negative-skips') === 'confirmed').toBe(r.snapshots.every((s) => s.sockets.filter((x) => x.state === 'FIN-WAIT-2' && portOf(x.peer) === 9000).length <= 2));
  });
});
