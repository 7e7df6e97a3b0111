import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that take longest start first, in this order, so the short ones fill the gaps beside them instead of
// a long one running alone at the end (vitest orders the rest by their last durations, or by size without its
// results cache). time-wait-duration waits out a real TIME-WAIT (~61 s) while hardly using a core; the guest
// boot of kernel-run keeps a core busy for ~45 s. The files that mostly wait on kernel timers or children
// (guest-launch, the FIN-WAIT-2 and timeout labs, sandbox, the browser) come next, while the guest still keeps
// the cores busy, and the CPU-bound ones (build, signals, suite, cli) after them, where they fill what would
// otherwise be idle time late in the run: 3 runs each, taking turns, 74.4-80.8 s against 77.6-82.4 s.
const FIRST = [
  'integration/time-wait-duration', 'integration/kernel-run',
  'unit/guest-launch', 'integration/fin-wait-2-timeout', 'integration/timeout-not-closed', 'integration/sandbox', 'integration/report-browser',
  'unit/run-management', 'integration/fin-wait-2-long-timeout', 'integration/close-wait-leak',
  'unit/build', 'integration/signals', 'unit/suite', 'unit/cli',
].map((n) => `/test/${n}.test.ts`);
class LongestFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = FIRST.findIndex((n) => f.moduleId.endsWith(n));
      return i < 0 ? FIRST.length : i;
    };
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

// Nothing the tests start makes a TLS connection, and Node parses NODE_EXTRA_CA_CERTS's file at every start (~65 ms
// of CPU here, where it is set, for each of ~200 node processes): the workers, and so everything they start,
// go without it.
delete process.env.NODE_EXTRA_CA_CERTS;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the prebuilt harness for the runners and CLIs the tests start (the tests themselves run the sources)
    globalSetup: ['test/setup-builds.ts'],
    setupFiles: ['test/setup-runners.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two worker processes more than cores, each running file after file: one is mostly asleep in
    // time-wait-duration for a minute, kernel-run's work is a QEMU child's, and the labs wait on kernel timers
    // much of the time, so the cores stay busy. On 2 cores, runs taking turns: 3 workers 96-99 s, 4 workers 81-87 s
    // (4 isolated ones were slower than 2). Not isolated: a file does not get a fresh process (a fork and its
    // module imports cost ~1 s of CPU per file), so a test that changes process-wide state (process.env, a signal
    // handler) puts it back when it ends.
    maxWorkers: availableParallelism() + 2,
    isolate: false,
    sequence: { sequencer: LongestFirst },
  },
});
