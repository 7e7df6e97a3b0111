import { describe, expect, it } from 'vitest';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const HELD = ['LISTEN', 'SYN-SENT', 'SYN-RECV', 'ESTAB', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'LAST-ACK'] as const;

describe('all-states lab', () => {
  it('proves every state from a snapshot named after it', async () => {
    const r = await runForTest('all-states', { port: 9000 });
    expect(r.outcome).toBe('ran');
    const seen = HELD.filter((st) => snapshotNamed(r, st).sockets.some((s) => s.state === st));
    const cw = snapshotNamed(r, 'FIN-WAIT-1').sockets.some((s) => s.state === 'CLOSE-WAIT');
    const tw = snapshotNamed(r, 'LAST-ACK').sockets.some((s) => s.state === 'TIME-WAIT');
    const lastAckPair = snapshotNamed(r, 'LAST-ACK').sockets.find((s) => s.state === 'LAST-ACK')!;
    const closed = !snapshotNamed(r, 'CLOSED').sockets.some((s) => s.local === lastAckPair.local && s.peer === lastAckPair.peer);
    const all = seen.length === HELD.length && cw && tw && closed;
    expect(verdictOf(r, 'eleven-states') === 'confirmed').toBe(all);
    expect(all).toBe(true);
    const table = r.tables[0];
    expect(table.rows.length).toBe(11);
    expect(table.rows.every((row) => row[2] !== 'NOT SEEN')).toBe(all);
    // every fault installed was lifted again
    expect(eventsOf(r, 'fault', { op: 'lift' }).length).toBe(eventsOf(r, 'fault', { op: 'install' }).length);
  });
});
