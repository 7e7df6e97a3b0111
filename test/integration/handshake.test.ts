import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';
import { stateAt } from '../state-helpers.ts';

describe('handshake lab', () => {
  it('holds SYN-SENT and SYN-RECV with nft faults, and its verdicts match the snapshots', async () => {
    const r = await runForTest('handshake', { port: 9000 });
    expect(r.outcome).toBe('ran');
    const P = 9000;

    const listenOk = countIn(snapshotNamed(r, 'LISTEN'), { localPort: P, state: 'LISTEN' }) === 1;
    expect(verdictOf(r, 'listen-state') === 'confirmed').toBe(listenOk);

    const sent = stateAt(snapshotNamed(r, 'SYN-SENT (SYN dropped)'), 41000, P);
    const sentDone = stateAt(snapshotNamed(r, 'SYN-SENT resolved'), 41000, P);
    expect(verdictOf(r, 'syn-sent-state') === 'confirmed').toBe(sent === 'SYN-SENT' && sentDone === 'ESTAB');

    const recv = snapshotNamed(r, 'SYN-RECV (last ACK dropped)');
    const recvOk = stateAt(recv, P, 41003) === 'SYN-RECV' && stateAt(recv, 41003, P) === 'ESTAB' && stateAt(snapshotNamed(r, 'SYN-RECV resolved'), P, 41003) === 'ESTAB';
    expect(verdictOf(r, 'syn-rcvd-hidden') === 'confirmed').toBe(recvOk);

    const est = snapshotNamed(r, 'ESTABLISHED');
    expect(verdictOf(r, 'established-state') === 'confirmed').toBe(stateAt(est, 41004, P) === 'ESTAB' && stateAt(est, P, 41004) === 'ESTAB');

    // on this kernel all four hold
    expect(r.claims.every((c) => c.verdict === 'confirmed')).toBe(true);

    // the stuck handshakes: connect() gave up with an errno; the forgotten connection was reset on write
    const doomed = eventsOf(r, 'connect', { port: 41001 })[0];
    expect(doomed.data?.ok).toBe(false);
    expect(doomed.data?.code).toBe('ETIMEDOUT');
    const expired = snapshotNamed(r, 'SYN-RECV expired');
    expect(stateAt(expired, P + 2, 41002)).toBe('absent');
    expect(stateAt(expired, 41002, P + 2)).toBe('ESTAB');
    expect(eventsOf(r, 'errno', { port: 41002 })[0]?.data?.code).toBe('ECONNRESET');

    // fault rules were installed and lifted, and recorded
    expect(eventsOf(r, 'fault', { op: 'install' }).length).toBe(4);
    expect(eventsOf(r, 'fault', { op: 'lift' }).length).toBe(4);
    expect(r.sysctls['net.ipv4.tcp_syn_retries']).toBe('1');
  });
});
