// server-close-pileup: the verdicts must agree with the per-host TIME-WAIT counts in the snapshots, counted
// only once no connection of the phase is still closing on either host.
import { describe, expect, it } from 'vitest';
import { portOf } from '../../harness/evidence/ss.ts';
import { countIn, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const CLOSING = ['SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'LAST-ACK'];

describe('server-close-pileup', () => {
  it('puts TIME-WAIT on whichever host closes first, 1000 connections each way', async () => {
    const n = 1000;
    const r = await runForTest('server-close-pileup', { n });
    const snap = (host: 'client' | 'server', phase: string) => snapshotNamed(r, `${host}: after ${phase}`);
    const tw = (host: 'client' | 'server', phase: string, port: number) =>
      countIn(snap(host, phase), host === 'client' ? { peerPort: port, state: 'TIME-WAIT' } : { localPort: port, state: 'TIME-WAIT' });
    const settled = (phase: string, port: number) =>
      !snap('client', phase).sockets.some((s) => portOf(s.peer) === port && CLOSING.includes(s.state)) &&
      !snap('server', phase).sockets.some((s) => portOf(s.local) === port && CLOSING.includes(s.state));
    expect(snap('server', 'server-closes').host).toBe('server');
    expect(snap('client', 'client-closes').host).toBe('client');
    const pile = (closer: number, other: number) => (closer === n && other === 0 ? 'confirmed' : closer > other ? 'partly' : 'refuted');

    const scServer = tw('server', 'server-closes', 8080);
    const scClient = tw('client', 'server-closes', 8080);
    const ccClient = tw('client', 'client-closes', 8081);
    const ccServer = tw('server', 'client-closes', 8081);
    const ka = tw('client', 'keep-alive', 8082) + tw('server', 'keep-alive', 8082);
    const scOk = settled('server-closes', 8080);
    const ccOk = settled('client-closes', 8081);
    expect(verdictOf(r, 'server-close-piles-on-server')).toBe(scOk ? pile(scServer, scClient) : 'inconclusive');
    expect(verdictOf(r, 'client-close-piles-on-client')).toBe(ccOk ? pile(ccClient, ccServer) : 'inconclusive');
    const kaExpected =
      !(scOk && ccOk && settled('keep-alive', 8082)) || Math.max(scServer, ccClient) <= 1 ? 'inconclusive' : ka <= 1 ? 'confirmed' : 'refuted';
    expect(verdictOf(r, 'keep-alive-avoids')).toBe(kaExpected);
  });
});
