// server-close-pileup, run for real: TIME-WAIT per host per phase, checked against the recorded ss reads.
import { describe, expect, it } from 'vitest';
import lab from '../../labs/server-close-pileup.ts';
import { countIn, evidenceOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('server-close-pileup', () => {
  it('puts TIME-WAIT on whoever closes first, one per client port, and keep-alive leaves one', async () => {
    const r = await runForTest('server-close-pileup', { n: 300, concurrency: 32 });
    const at = (m: string) => evidenceOf(r, lab).phases.find((p) => p.mode === m)!.evidence!;
    for (const m of ['server-closes', 'client-closes', 'keep-alive']) {
      expect(countIn(snapshotNamed(r, `client: after ${m}`), { peerPort: at(m).port, state: 'TIME-WAIT' }), m).toBe(at(m).clientTw);
      expect(countIn(snapshotNamed(r, `server: after ${m}`), { localPort: at(m).port, state: 'TIME-WAIT' }), m).toBe(at(m).serverTw);
    }
    expect([at('server-closes').serverTw, at('server-closes').clientTw]).toEqual([at('server-closes').clientPorts, 0]);
    expect([at('client-closes').clientTw, at('client-closes').serverTw]).toEqual([300, 0]);
    expect(at('keep-alive').clientTw + at('keep-alive').serverTw).toBe(1);
    expect(['server-close-piles-on-server', 'client-close-piles-on-client', 'keep-alive-avoids'].map((id) => verdictOf(r, id))).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });
});
