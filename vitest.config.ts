import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'chaos/test/**/*.test.ts'],
    // Cluster tests start real sockets and processes; a generous per-test bound only
    // catches hangs, every wait inside a test polls for its condition.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report feeds the plain "N passed, N failed" line that .ci/run prints.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
  },
});
