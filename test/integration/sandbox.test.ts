// The sandbox leaves nothing behind: not after SIGKILL of the harness, not after Ctrl-C, not after a lab throws.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { expectGone, netnsOf, probeArgs, processesInNetns } from '../helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOST_HARNESS = fileURLToPath(new URL('../fixtures/host-harness.ts', import.meta.url));
const hostFinTimeout = () => readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8').trim();

// every harness a test starts is killed after it, even when an assertion failed half-way (its lab dies with it)
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function startHarness(mode: 'wait' | 'throw'): { child: ChildProcess; lines: string[]; line: (re: RegExp) => Promise<string> } {
  // bundled, it imports the hold lab from the fixtures' build, as a CLI running from a build does (no build: tsx)
  const build = inject('tcpLabBuilds').fixtures;
  const args = build ? probeArgs(HOST_HARNESS) : ['--import', 'tsx', HOST_HARNESS];
  const env = { ...process.env, ...(build && args[0] !== '--import' ? { TCP_LAB_BUILD: build } : {}) };
  const child = spawn(process.execPath, [...args, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  started.push(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(l);
      for (const w of waiters.filter((x) => x.re.test(l))) w.resolve(l);
    }
  });
  const line = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find((l) => re.test(l));
      if (hit) return resolve(hit);
      waiters.push({ re, resolve });
      child.on('close', () => reject(new Error(`harness exited without printing ${re}; output: ${lines.join(' | ')}`)));
    });
  return { child, lines, line };
}

/** The runner's pid and namespace once the lab holds its sockets (it is still blocked there in 'wait' mode). */
async function readyRunner(h: ReturnType<typeof startHarness>): Promise<{ pid: number; ns: string }> {
  const pid = Number((await h.line(/^READY \d+/)).split(' ')[1]);
  const ns = netnsOf(pid)!;
  expect(ns).toMatch(/^net:\[\d+\]$/);
  expect(ns).not.toBe(netnsOf(process.pid)); // the lab really is in a namespace of its own
  expect(processesInNetns(ns, { ignoreTsxService: true })).toEqual([pid]);
  return { pid, ns };
}

describe('sandbox cleanup', () => {
  it('SIGKILL of the harness mid-lab leaves no process and no namespace', async () => {
    const before = hostFinTimeout();
    const h = startHarness('wait');
    const { pid, ns } = await readyRunner(h);
    h.child.kill('SIGKILL');
    await expectGone(pid);
    expect(processesInNetns(ns)).toEqual([]);
    expect(hostFinTimeout()).toBe(before); // the lab set 7 inside its namespace only
  });

  it('Ctrl-C (SIGINT) stops the lab, runs its teardown and reports it as interrupted', async () => {
    const h = startHarness('wait');
    const { pid, ns } = await readyRunner(h);
    h.child.kill('SIGINT');
    const result = JSON.parse((await h.line(/^RESULT /)).slice(7));
    expect(result.outcome).toBe('error');
    expect(result.reason).toMatch(/interrupted/);
    expect(result.events).toContain('note'); // "teardown ran"
    await expectGone(pid);
    expect(processesInNetns(ns)).toEqual([]);
  });

  it('a lab that throws is reported as an error, torn down, and leaves nothing', async () => {
    const h = startHarness('throw');
    const pid = Number((await h.line(/^READY \d+/)).split(' ')[1]);
    const result = JSON.parse((await h.line(/^RESULT /)).slice(7));
    expect(result).toMatchObject({ outcome: 'error', reason: 'boom: the fixture lab failed on purpose' });
    expect(result.events).toEqual(expect.arrayContaining(['error', 'note']));
    await expectGone(pid);
  });
});

describe('a fixture whose wait times out', () => {
  it("leave() says how many ends reached the state and where each of the others is", async () => {
    const { entryOf } = await import('../../harness/runs/registry.ts');
    const { runLab } = await import('../../harness/runs/run.ts');
    const r = await runLab({ lab: await entryOf(fileURLToPath(new URL('../fixtures/labs/leave-unreached.ts', import.meta.url))) });
    expect(r.outcome).toBe('error');
    // tcp_max_tw_buckets=1 in the sandbox: the kernel keeps the first TIME-WAIT socket and closes the others outright
    expect(r.reason).toMatch(/^no 3 x TIME-WAIT on the client side of :\d+ after \d+ ms; last seen: 1 of 3 ends in TIME-WAIT \(3 distinct local ports\); the others: client :\d+ -> :\d+ absent \| client :\d+ -> :\d+ absent; socket errors: none; counters since the first connection: TcpExt\.TCPTimeWaitOverflow \+2$/);
  });
});

describe('a lab that cannot run here', () => {
  it('is skipped with the reason and the install command, its claims inconclusive', async () => {
    const { entryOf } = await import('../../harness/runs/registry.ts');
    const { runLab } = await import('../../harness/runs/run.ts');
    const module = fileURLToPath(new URL('../fixtures/labs/needs-missing.ts', import.meta.url));
    const def = await entryOf(module);
    const r = await runLab({ lab: def });
    expect(r.outcome).toBe('skipped');
    expect(r.reason).toBe('tcplab-no-such-tool is not installed; install it with: apt-get install -y tcplab-no-such-tool');
    expect(r.claims.map((c) => c.verdict)).toEqual(['inconclusive']);
    expect(r.claims[0].observed).toMatch(/was skipped/);
  });

  it('is skipped, not an error, when the kernel lacks a sysctl its set-up writes', async () => {
    const { entryOf } = await import('../../harness/runs/registry.ts');
    const { runLab } = await import('../../harness/runs/run.ts');
    const def = await entryOf(fileURLToPath(new URL('../fixtures/labs/sysctl-missing.ts', import.meta.url)));
    const r = await runLab({ lab: def });
    expect(r.outcome).toBe('skipped');
    expect(r.reason).toMatch(/^this kernel \(\S+\) has no net\.ipv4\.tcplab_no_such_knob, which the lab sets$/);
    expect(r.claims.map((c) => c.verdict)).toEqual(['inconclusive']);
    expect(r.claims[0].observed).toMatch(/has no net\.ipv4\.tcplab_no_such_knob/);
  });
});
