import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';
import { portOf, stateAt } from '../state-helpers.ts';

describe('simultaneous-close lab', () => {
  it('holds CLOSING without a simultaneous close, and counts crossings of same-instant closes from the snapshot', async () => {
    const r = await runForTest('simultaneous-close', { port: 9000, trials: 6, gap: 200 });
    expect(r.outcome).toBe('ran');
    const closing = snapshotNamed(r, 'CLOSING');
    const client = closing.sockets.find((s) => s.state === 'CLOSING' && portOf(s.peer) === 9001);
    const cp = client ? portOf(client.local) : -1;
    const serverThen = stateAt(closing, 9001, cp);
    const end = snapshotNamed(r, 'both TIME-WAIT');
    const bothTw = stateAt(end, cp, 9001) === 'TIME-WAIT' && stateAt(end, 9001, cp) === 'TIME-WAIT';
    expect(verdictOf(r, 'closing-meaning') === 'confirmed').toBe(!!client && serverThen === 'FIN-WAIT-2' && bothTw);

    // crossings counted by the lab agree with the snapshot: both ends of a pair in TIME-WAIT
    const same = snapshotNamed(r, 'same-instant closes settled');
    const clientsTw = same.sockets.filter((s) => portOf(s.peer) === 9000 && s.state === 'TIME-WAIT').map((s) => portOf(s.local));
    const crossed = clientsTw.filter((p) => stateAt(same, 9000, p) === 'TIME-WAIT').length;
    expect(eventsOf(r, 'tally')[0].data?.crossed).toBe(crossed);
    expect(verdictOf(r, 'closing-simultaneous')).toBe(client ? 'partly' : 'inconclusive');
    expect(client).toBeDefined();
  });
});
