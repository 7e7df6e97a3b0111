import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';
import { portOf, stateAt } from '../state-helpers.ts';

describe('simultaneous-close lab', () => {
  it('holds CLOSING without a simultaneous close, and judges same-instant closes by the crossings in the snapshot', async () => {
    const trials = 6;
    const r = await runForTest('simultaneous-close', { port: 9000, trials, gap: 200 });
    expect(r.outcome).toBe('ran');

    // the lost-FIN connection on :9001: client held in CLOSING, its FIN(s) dropped by the rule
    const closing = snapshotNamed(r, 'CLOSING');
    const client = closing.sockets.find((s) => s.state === 'CLOSING' && portOf(s.peer) === 9001);
    const cp = client ? portOf(client.local) : -1;
    const finRule = eventsOf(r, 'fault', { op: 'install', kind: 'fin', toPort: 9001 })[0];
    const finsDropped = (eventsOf(r, 'fault', { op: 'lift', id: finRule.data?.id })[0]?.data?.packets as number) ?? 0;
    const lost = !!client && finsDropped > 0;
    const serverThen = stateAt(closing, 9001, cp);
    const serverBefore = stateAt(snapshotNamed(r, 'client FIN lost: FIN-WAIT-1 / ESTAB'), 9001, cp);
    const end = snapshotNamed(r, 'both TIME-WAIT');
    const bothTw = stateAt(end, cp, 9001) === 'TIME-WAIT' && stateAt(end, 9001, cp) === 'TIME-WAIT';
    const meaning = !lost ? 'inconclusive' : serverThen === 'FIN-WAIT-2' && serverBefore === 'ESTAB' && bothTw ? 'confirmed' : 'partly';
    expect(verdictOf(r, 'closing-meaning')).toBe(meaning);

    // crossings re-counted from the snapshot: both ends of a same-instant pair on :9000 in TIME-WAIT
    const same = snapshotNamed(r, 'same-instant closes settled');
    const clientsTw = same.sockets.filter((s) => portOf(s.peer) === 9000 && s.state === 'TIME-WAIT').map((s) => portOf(s.local));
    const crossed = clientsTw.filter((p) => stateAt(same, 9000, p) === 'TIME-WAIT').length;
    expect(eventsOf(r, 'tally')[0].data?.crossed).toBe(crossed);
    const simultaneous = crossed === trials ? 'confirmed' : crossed > 0 || lost ? 'partly' : 'refuted';
    expect(verdictOf(r, 'closing-simultaneous')).toBe(simultaneous);
    expect(client).toBeDefined();
  });
});
