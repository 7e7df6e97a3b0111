// Runs time-wait-restart for real and checks its verdicts against the evidence recorded in the same run:
// the errno of each bind/listen, the TIME-WAIT lines before the restart and the LISTEN lines after it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabResult } from '../../harness/evidence/records.ts';
import { countIn, eventsOf, runForTest, snapshotNamed, verdictOf } from '../helpers.ts';

const ok = (d: Record<string, unknown>) => d.bind === 'ok' && d.listen === 'ok';
const inUse = (d: Record<string, unknown>) => d.bind === 'EADDRINUSE' || d.listen === 'EADDRINUSE';

describe('time-wait-restart (real kernel)', () => {
  let r: LabResult;
  const N = 3;
  beforeAll(async () => {
    r = await runForTest('time-wait-restart', { connections: N });
  });

  it('ran the full 4 x 4 matrix over TIME-WAIT that the snapshot shows', () => {
    expect(r.outcome).toBe('ran');
    const before = snapshotNamed(r, 'before restart');
    const binds = eventsOf(r, 'bind').filter((e) => e.data?.old !== undefined);
    expect(binds).toHaveLength(16);
    for (const e of binds) {
      const port = e.data!.port as number;
      // independent count: server-side TIME-WAIT sockets on this port, straight from the ss lines
      expect(countIn(before, { localPort: port, state: 'TIME-WAIT' })).toBe(N);
      expect(e.data!.leftovers).toBe(N);
      expect(e.data!.kernel).toEqual(e.data!.requested); // options read back with getsockopt
    }
  });

  it('every successful restart is LISTENing in the snapshot after it, every failed one is not', () => {
    const after = snapshotNamed(r, 'after restart');
    for (const e of eventsOf(r, 'bind').filter((x) => x.data?.old !== undefined)) {
      const listening = countIn(after, { localPort: e.data!.port as number, state: 'LISTEN' });
      expect(listening, e.detail).toBe(ok(e.data!) ? 1 : 0);
    }
  });

  it('restart-needs-reuseaddr agrees with the none->none and reuseaddr->reuseaddr binds', () => {
    const none = eventsOf(r, 'bind', { old: 'none', next: 'none' })[0].data!;
    const ra = eventsOf(r, 'bind', { old: 'reuseaddr', next: 'reuseaddr' })[0].data!;
    expect(verdictOf(r, 'restart-needs-reuseaddr')).toBe(inUse(none) && ok(ra) ? 'confirmed' : 'refuted');
    expect(inUse(none)).toBe(true); // Linux: a TIME-WAIT socket without SO_REUSEADDR blocks bind
  });

  it('reuseport-not-over-time-wait agrees with the reuseport->reuseport bind', () => {
    const rp = eventsOf(r, 'bind', { old: 'reuseport', next: 'reuseport' })[0].data!;
    const both = eventsOf(r, 'bind', { old: 'both', next: 'both' })[0].data!;
    const expected = ok(rp) ? 'refuted' : ok(both) ? 'confirmed' : 'inconclusive';
    expect(verdictOf(r, 'reuseport-not-over-time-wait')).toBe(expected);
  });

  it('reuseaddr-only-time-wait agrees with the binds over other states, which the snapshot shows', () => {
    const before = snapshotNamed(r, 'before restart (other states)');
    const rows = eventsOf(r, 'bind', { next: 'reuseaddr' }).filter((e) => e.data?.state !== undefined);
    expect(rows.map((e) => e.data!.state).sort()).toEqual(['CLOSE-WAIT', 'ESTAB', 'FIN-WAIT-2', 'LISTEN']);
    for (const e of rows) expect(countIn(before, { localPort: e.data!.port as number, state: e.data!.state as never })).toBe(1);
    const listenRow = rows.find((e) => e.data!.state === 'LISTEN')!.data!;
    const others = rows.filter((e) => e.data!.state !== 'LISTEN').map((e) => e.data!);
    const expected = ok(listenRow) ? 'refuted' : others.every((d) => !ok(d)) ? 'confirmed' : 'partly';
    expect(verdictOf(r, 'reuseaddr-only-time-wait')).toBe(expected);
    expect(inUse(listenRow)).toBe(true); // a live listener always blocks a second bind without SO_REUSEPORT
  });

  it("records Node's own listener options as the kernel reports them", () => {
    const e = eventsOf(r, 'sockopt')[0];
    expect(e.data).toEqual({ reuseaddr: true, reuseport: false }); // libuv sets SO_REUSEADDR on listeners
  });
});

describe('lab CLI end to end', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { cwd: ROOT }, (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
      ),
    );

  // exactly what a user types, into a shell pipe: `npm run lab x -- --json | jq`
  const npmRunLabPiped = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile('sh', ['-c', 'npm run --silent lab -- "$@" | cat', 'sh', ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
      ),
    );

  it('--json prints the result; every run gets a new folder with result.json, writeup.md and snapshots', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcplab-results-'));
    // 40 connections per cell: the JSON is well over a pipe's 64 KiB, which exiting before stdout drained
    // cut off when run through npm and tsx (as in `npm run lab x -- --json | jq`)
    const args = ['time-wait-restart', '--old', 'none,reuseaddr', '--new', 'reuseaddr', '--connections', '40', '--results-dir', dir];
    const a = await npmRunLabPiped([...args, '--json']);
    expect(a.code).toBe(0); // (the pipe's status is cat's; the lab's own exit code is checked by the run below)
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(65_536);
    const printed = JSON.parse(a.stdout) as LabResult;
    const b = await cli(args);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/Verdicts \(time-wait-restart/);
    expect(b.stdout).toMatch(/restart-needs-reuseaddr\s+001\s+(confirmed|refuted|inconclusive)/);
    const runs = readdirSync(dir).sort();
    expect(runs).toHaveLength(2);
    const first = path.join(dir, runs[0], 'time-wait-restart');
    expect(JSON.parse(readFileSync(path.join(first, 'result.json'), 'utf8'))).toEqual(printed);
    expect(printed.options).toEqual({ old: ['none', 'reuseaddr'], new: ['reuseaddr'], connections: 40, port: 9000 });
    // the none->none cell was not run, so that claim cannot be decided
    expect(printed.claims.find((c) => c.id === 'restart-needs-reuseaddr')!.verdict).toBe('inconclusive');
    const writeup = readFileSync(path.join(first, 'writeup.md'), 'utf8');
    expect(writeup).toMatch(/^# Restart a listener over TIME-WAIT/);
    expect(writeup).toMatch(/TIME-WAIT .*timer:\(timewait,/);
    expect(readdirSync(path.join(first, 'snapshots')).length).toBe(printed.snapshots.length);
  });
});
