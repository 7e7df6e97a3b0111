import { describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import { eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';
import { portOf, stateAt } from '../state-helpers.ts';

/** closer / passive states at every step of one sequence, read from the snapshots alone. */
function sequence(r: LabResult, closer: 'client' | 'server', serverPort: number) {
  const est = snapshotNamed(r, `${closer} closes: ESTABLISHED`);
  const conn = est.sockets.find((s) => s.state === 'ESTAB' && portOf(s.peer) === serverPort)!;
  const clientPort = portOf(conn.local);
  const [cl, pa] = closer === 'client' ? [[clientPort, serverPort], [serverPort, clientPort]] : [[serverPort, clientPort], [clientPort, serverPort]];
  const at = (label: string) => {
    const s = snapshotNamed(r, `${closer} closes: ${label}`);
    return `${stateAt(s, cl[0], cl[1])} / ${stateAt(s, pa[0], pa[1])}`;
  };
  return [at('ESTABLISHED'), at('FIN-WAIT-1 / CLOSE-WAIT'), at('FIN-WAIT-2 / CLOSE-WAIT'), at('TIME-WAIT / LAST-ACK'), at('closed')];
}

describe('active-close lab', () => {
  it('shows every closing state on the closer and the passive side, for both closers', async () => {
    const r = await runForTest('active-close', { port: 9000 });
    expect(r.outcome).toBe('ran');
    const expected = ['ESTAB / ESTAB', 'FIN-WAIT-1 / CLOSE-WAIT', 'FIN-WAIT-2 / CLOSE-WAIT', 'TIME-WAIT / LAST-ACK', 'TIME-WAIT / absent'];
    const client = sequence(r, 'client', 9000);
    const server = sequence(r, 'server', 9001);
    const ok = (seq: string[]) => seq.every((s, i) => s === expected[i]);

    for (const id of ['fin-wait-1', 'close-wait', 'last-ack']) {
      expect(verdictOf(r, id) === 'confirmed', id).toBe(ok(client) && ok(server));
    }
    // time-wait-on-closer, every outcome: the peer's FIN reached the closer only if the passive side was LAST-ACK
    const [closer, passive] = [(x: string) => x.split(' / ')[0], (x: string) => x.split(' / ')[1]];
    const seqs = [client, server];
    const timeWait = !seqs.every((q) => passive(q[3]) === 'LAST-ACK')
      ? 'inconclusive'
      : !seqs.every((q) => closer(q[3]) === 'TIME-WAIT' && closer(q[4]) === 'TIME-WAIT')
        ? 'refuted'
        : seqs.some((q) => passive(q[4]) === 'TIME-WAIT')
          ? 'partly'
          : 'confirmed';
    expect(verdictOf(r, 'time-wait-on-closer')).toBe(timeWait);
    // fin-wait-2-half-open, every outcome: FIN-WAIT-2 / CLOSE-WAIT held, and the late data delivered or not
    const half = eventsOf(r, 'half-open');
    const halfHeld = seqs.every((q) => q[2] === 'FIN-WAIT-2 / CLOSE-WAIT');
    const delivered = half.length === 2 && half.every((e) => e.data?.received === e.data?.sent);
    expect(verdictOf(r, 'fin-wait-2-half-open')).toBe(!halfHeld ? 'inconclusive' : delivered ? 'confirmed' : 'refuted');
    // with the server closing first, TIME-WAIT is on the server's own port
    const tw = snapshotNamed(r, 'server closes: closed').sockets.filter((s) => s.state === 'TIME-WAIT' && portOf(s.local) === 9001);
    expect(verdictOf(r, 'active-not-client') === 'confirmed').toBe(tw.length === 1 && ok(server));

    const before = snapshotNamed(r, 'FIN+ACK: FIN-WAIT-1 / CLOSE-WAIT').sockets.find((s) => portOf(s.peer) === 9002 && s.state === 'FIN-WAIT-1');
    const after = snapshotNamed(r, "FIN+ACK: after the server's FIN").sockets.find((s) => before && s.local === before.local && s.peer === before.peer);
    expect(verdictOf(r, 'fin-wait-1-to-time-wait') === 'confirmed').toBe(!!before && after?.state === 'TIME-WAIT');

    expect(ok(client)).toBe(true);
    expect(ok(server)).toBe(true);
  });

  it('runs one closer alone and then cannot judge active-not-client from a client close', async () => {
    const r = await runForTest('active-close', { closer: ['client'], port: 9100 });
    expect(verdictOf(r, 'active-not-client')).toBe('inconclusive');
    expect(r.snapshots.some((s) => s.label.startsWith('server closes'))).toBe(false);
  });
});
