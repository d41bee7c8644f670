import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Cluster tests start real sockets and processes; a generous per-test bound only
    // catches hangs, every wait inside a test polls for its condition.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
