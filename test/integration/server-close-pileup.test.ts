// server-close-pileup: the verdicts must agree with the per-host TIME-WAIT counts in the snapshots.
import { describe, expect, it } from 'vitest';
import { countIn, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('server-close-pileup', () => {
  it('puts TIME-WAIT on whichever host closes first, 1000 connections each way', async () => {
    const n = 1000;
    const r = await runForTest('server-close-pileup', { n });
    const tw = (label: string, f: { localPort?: number; peerPort?: number }) => countIn(snapshotNamed(r, label), { ...f, state: 'TIME-WAIT' });
    expect(snapshotNamed(r, 'server: after server-closes').host).toBe('server');
    expect(snapshotNamed(r, 'client: after client-closes').host).toBe('client');
    const scServer = tw('server: after server-closes', { localPort: 8080 });
    const scClient = tw('client: after server-closes', { peerPort: 8080 });
    const ccClient = tw('client: after client-closes', { peerPort: 8081 });
    const ccServer = tw('server: after client-closes', { localPort: 8081 });
    const ka = tw('client: after keep-alive', { peerPort: 8082 }) + tw('server: after keep-alive', { localPort: 8082 });
    expect(verdictOf(r, 'server-close-piles-on-server') === 'confirmed').toBe(scServer === n && scClient === 0);
    expect(verdictOf(r, 'client-close-piles-on-client') === 'confirmed').toBe(ccClient === n && ccServer === 0);
    expect(verdictOf(r, 'keep-alive-avoids') === 'confirmed').toBe(ka <= 1 && scServer + ccClient > 2);
  });
});
