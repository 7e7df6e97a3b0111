// The two-host topology: each host sees only its own sockets and sysctls, traffic crosses the veth pair with
// non-loopback addresses, and the extra namespace is gone (no process or fd refers to it) after the lab.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runLab } from '../../harness/runs/run.ts';
import { entryOf } from '../../harness/runs/registry.ts';
import { countIn, eventsOf, expectGone, snapshotNamed } from '../helpers.ts';

const MODULE = fileURLToPath(new URL('../fixtures/topology-probe.ts', import.meta.url));

/**
 * Every /proc/<pid>/ns/net and /proc/<pid>/fd/* link that points at this namespace. The kernel reuses a freed
 * namespace's inode number, so a link held by another lab's runner (other test files run labs at the same time)
 * can point at a new namespace with the same number: those are left out; ours died with our runner.
 */
function referencesTo(ns: string, ourRunner: number): string[] {
  const out = execFileSync('sh', ['-c', 'for l in /proc/[0-9]*/ns/net /proc/[0-9]*/fd/*; do echo "$l $(readlink $l 2>/dev/null)"; done'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const otherRunner = (line: string) => {
    const pid = Number(line.split('/')[2]);
    try {
      return pid !== ourRunner && /runner\.(ts|mjs)\b/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return true; // gone by now: it was not holding our namespace open
    }
  };
  return out.split('\n').filter((l) => l.endsWith(` ${ns}`) && !otherRunner(l));
}

describe('two-host topology', () => {
  it('puts client and server in separate namespaces joined by veth, and leaves nothing behind', async () => {
    const def = await entryOf(MODULE);
    let pid: number | undefined;
    const r = await runLab({ lab: def, onSpawn: (p) => (pid = p) });
    expect(r.outcome, r.reason).toBe('ran');
    await expectGone(pid!);

    const client = snapshotNamed(r, 'client');
    const server = snapshotNamed(r, 'server');
    expect(client.host).toBe('client');
    expect(server.host).toBe('server');
    // the client's end lives only in the client namespace, the accepted end and the listener only in the server's
    expect(client.sockets.filter((s) => s.state === 'ESTAB' && s.local.startsWith('10.199.0.2:') && s.peer === '10.199.0.1:8080')).toHaveLength(1);
    expect(countIn(client, { state: 'LISTEN' })).toBe(0);
    expect(server.sockets.filter((s) => s.state === 'ESTAB' && s.local === '10.199.0.1:8080' && s.peer.startsWith('10.199.0.2:'))).toHaveLength(1);
    expect(countIn(server, { state: 'LISTEN', localPort: 8080 })).toBe(1);

    const [probe] = eventsOf(r, 'probe');
    expect(probe.data).toEqual({ client: '7', server: r.sysctls['net.ipv4.tcp_fin_timeout'] ?? '60' });
    expect(r.sysctls['client:net.ipv4.tcp_fin_timeout']).toBe('7');

    const [made] = eventsOf(r, 'netns', { name: 'client' });
    const ns = made.data!.netns as string;
    expect(ns).toMatch(/^net:\[\d+\]$/);
    expect(referencesTo(ns, pid!)).toEqual([]);
  });
});
