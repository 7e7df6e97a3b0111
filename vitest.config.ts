import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // integration tests run real labs, each in its own namespace; two cores, so keep workers few
    maxWorkers: 2,
  },
});
