import { describe, expect, it } from 'vitest';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';
import { stateAt } from '../state-helpers.ts';

describe('handshake lab', () => {
  it('holds SYN-SENT and SYN-RECV with nft faults, and its verdicts match the snapshots', async () => {
    const r = await runForTest('handshake', { port: 9000 });
    expect(r.outcome).toBe('ran');
    const P = 9000;

    // every verdict, every outcome, from the snapshots and the recorded counters / errno values
    const listening = countIn(snapshotNamed(r, 'LISTEN'), { localPort: P, state: 'LISTEN' });
    const accepted = eventsOf(r, 'accept').at(-1)?.data?.accepted as number;
    expect(verdictOf(r, 'listen-state')).toBe(!listening ? 'refuted' : accepted < 3 ? 'partly' : 'confirmed');

    const dropped = (kind: string) => {
      const rule = eventsOf(r, 'fault', { op: 'install', kind, toPort: P })[0];
      return eventsOf(r, 'fault', { op: 'lift', id: rule.data?.id })[0].data?.packets as number;
    };
    const sent = stateAt(snapshotNamed(r, 'SYN-SENT (SYN dropped)'), 41000, P);
    const sentDone = stateAt(snapshotNamed(r, 'SYN-SENT resolved'), 41000, P);
    const aOk = eventsOf(r, 'connect', { port: 41000 })[0].data?.ok === true;
    const synSent = dropped('syn') === 0 ? 'inconclusive' : sent !== 'SYN-SENT' ? 'refuted' : sentDone !== 'ESTAB' || !aOk ? 'partly' : 'confirmed';
    expect(verdictOf(r, 'syn-sent-state')).toBe(synSent);

    const recv = stateAt(snapshotNamed(r, 'SYN-RECV (last ACK dropped)'), P, 41003);
    const recvDone = stateAt(snapshotNamed(r, 'SYN-RECV resolved'), P, 41003);
    const acceptedWhileHeld = eventsOf(r, 'accept').find((e) => e.data?.acceptedWhileHeld !== undefined)?.data?.acceptedWhileHeld;
    const synRecv = dropped('handshake-ack') === 0 ? 'inconclusive' : recv !== 'SYN-RECV' ? 'refuted' : acceptedWhileHeld !== 0 || recvDone !== 'ESTAB' ? 'partly' : 'confirmed';
    expect(verdictOf(r, 'syn-rcvd-hidden')).toBe(synRecv);

    const est = snapshotNamed(r, 'ESTABLISHED');
    const cOk = eventsOf(r, 'connect', { port: 41004 })[0].data?.ok === true;
    const bothEst = stateAt(est, 41004, P) === 'ESTAB' && stateAt(est, P, 41004) === 'ESTAB';
    expect(verdictOf(r, 'established-state')).toBe(!cOk ? 'inconclusive' : bothEst ? 'confirmed' : 'refuted');

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
