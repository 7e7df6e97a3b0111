// kill-mid-connection, run for real: the states ss showed around each kill and what the peer's calls returned.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import lab from '../../labs/kill-mid-connection.ts';
import { eventsOf, evidenceOf, expectGone, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

describe('kill-mid-connection (real kernel)', () => {
  let r: LabResult;
  beforeAll(async () => {
    r = await runForTest('kill-mid-connection', { bytes: 700 });
  });

  it('killed each victim with the signal it names, and every actor is gone', async () => {
    expect(eventsOf(r, 'kill').map((e) => e.data!.signal)).toEqual(['SIGKILL', 'SIGTERM']);
    expect(evidenceOf(r, lab).kills.map((k) => k.evidence!.exit)).toEqual(['SIGKILL', 'SIGTERM']);
    for (const e of eventsOf(r, 'actor-spawn')) await expectGone(e.data!.pid as number);
  });

  it('the snapshots show what the evidence says: 700 B unread before, FIN-WAIT-2/CLOSE-WAIT or nothing after', () => {
    for (const k of evidenceOf(r, lab).kills) {
      const before = snapshotNamed(r, `${k.signal}: before kill`);
      expect(before.sockets.filter((s) => s.state === 'ESTAB' && s.recvQ === 700)).toHaveLength(2);
      const after = snapshotNamed(r, `${k.signal}: after kill`);
      const conns = k.evidence!.conns;
      expect(after.sockets.filter((s) => s.state === 'FIN-WAIT-2').length).toBeGreaterThanOrEqual(conns.filter((c) => c.killedAfter === 'FIN-WAIT-2').length);
      // Linux: a FIN where nothing was unread, an RST (both ends gone) where something was
      for (const c of conns) expect([c.unread, c.killedAfter, c.peerAfter]).toEqual(c.unread ? [700, 'absent', 'absent'] : [0, 'FIN-WAIT-2', 'CLOSE-WAIT']);
      expect(k.evidence!.killRsts).toBe(2);
    }
  });

  it("the peer's calls: the first write succeeds and draws an RST, then reads give EOF and writes EPIPE", () => {
    for (const k of evidenceOf(r, lab).kills) {
      for (const c of k.evidence!.conns.filter((x) => !x.unread)) {
        const first = c.ops.findIndex((o) => o.call === 'write');
        expect(c.ops[first]).toMatchObject({ result: '100 bytes', peerAfter: 'absent' });
        expect(c.ops[first].rsts).toBeGreaterThanOrEqual(1);
        for (const o of c.ops.slice(first + 1)) expect(o.result).toBe(o.call === 'read' ? '0 (EOF)' : '-1 EPIPE');
      }
    }
    expect(['kill-sends-fin', 'peer-close-wait', 'peer-write-draws-rst', 'read-after-rst-econnreset', 'write-after-rst-epipe'].map((id) => verdictOf(r, id))).toEqual(['partly', 'confirmed', 'confirmed', 'refuted', 'confirmed']);
  });
});
