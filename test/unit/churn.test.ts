// The churn fixture (kernel/churn*.ts through lab/fixtures.ts) in a real sandbox, and its C reference
// (scripts/churn.c) built and run the way `npm run bench -- churn` does.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileChurn, findCompiler } from '../../scripts/bench/util.ts';
import { probeArgs } from '../helpers.ts';

interface Variant { name: string; ports: number; distinct: number; failure?: string; ms: number; ticks: number; sides: Record<string, number>; moved: string }

const sandbox = (args: string[]) => execFileSync('unshare', ['--user', '--map-root-user', '--net', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('churn', () => {
  let results: Variant[] = [];
  let interrupted = '';
  let twoHost: { ports: number; distinct: number; server: Record<string, number>; client: Record<string, number> } | undefined;
  beforeAll(() => {
    const probe = fileURLToPath(new URL('./probes/churn.ts', import.meta.url));
    ({ results, interrupted, twoHost } = JSON.parse(sandbox([process.execPath, ...probeArgs(probe)]).trim().split('\n').pop()!));
  });
  const v = (name: string) => results.find((r) => r.name.startsWith(name))!;

  it('leaves every connection in TIME-WAIT on the side that closed first, and nothing else', () => {
    // the message: the kernel's counters over that churn (retransmissions, resets, TIME-WAIT overflow)
    const said = (name: string) => `${name}: ${JSON.stringify(v(name).sides)}; counters: ${v(name).moved}`;
    expect(v('client closes'), said('client closes')).toMatchObject({ ports: 3000, distinct: 3000, sides: { 'server LISTEN': 1, 'client TIME-WAIT': 3000 } });
    expect(Object.keys(v('client closes').sides)).toHaveLength(2);
    expect(v('server closes'), said('server closes')).toMatchObject({ ports: 300, distinct: 300, sides: { 'server LISTEN': 1, 'server TIME-WAIT': 300 } });
    expect(Object.keys(v('server closes').sides)).toHaveLength(2);
    expect(v('client closes after'), said('client closes after')).toMatchObject({ ports: 50, sides: { 'server LISTEN': 1, 'client TIME-WAIT': 50 } });
  });

  it('stops at the first connect() that fails when asked, with its errno', () => {
    expect(v('until connect fails')).toMatchObject({ ports: 10, distinct: 10, failure: 'EADDRNOTAVAIL', sides: { 'client TIME-WAIT': 10 } });
  });

  it('gives the event loop turns while it churns, and stops when its signal aborts', () => {
    const long = v('client closes');
    if (long.ms > 100) expect(long.ticks).toBeGreaterThan(0);
    expect(interrupted).toMatch(/^Interrupted: interrupted after 0 of 10 connections/);
  });

  it('churns from another namespace over veth (the client sockets made there)', () => {
    expect(twoHost).toEqual({ ports: 100, distinct: 100, server: { 'server LISTEN': 1, 'server TIME-WAIT': 100 }, client: {} });
  });
});

describe('the C reference (scripts/churn.c)', () => {
  it('builds with the system compiler and makes the connections asked for', async () => {
    if (!(await findCompiler())) return; // the bench says how to get one; nothing to test here without
    const { binary, remove } = await compileChurn();
    try {
      for (const [mode, closer, batch, req, resp] of [['settled', 'client', 1, 0, 0], ['settled', 'server', 8, 29, 40], ['bare', 'client', 1, 0, 0]] as const) {
        const out = sandbox(['sh', '-c', `ip link set lo up && ${binary} ${mode} ${closer} 200 ${batch} ${req} ${resp} 9000 && ss -tanH state time-wait | wc -l`]).trim().split('\n');
        const m = JSON.parse(out[0]) as { connections: number; ns: number; cpuNs: number };
        expect(m.connections).toBe(200);
        expect(m.ns).toBeGreaterThan(0);
        expect(Number(out[1]), `${mode} ${closer}`).toBe(200);
      }
    } finally {
      remove();
    }
  });
});
