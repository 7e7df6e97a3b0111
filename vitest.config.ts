import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// time-wait-duration waits out a real TIME-WAIT (~61 s): start it first so the other files run beside it,
// instead of it running alone at the end (vitest orders a run without its results cache by file size).
const FIRST = ['time-wait-duration.test.ts'];
class LongestFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => (FIRST.some((n) => f.moduleId.endsWith(n)) ? 0 : 1);
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // integration tests run real labs, each in its own namespace; two cores, so keep workers few
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
