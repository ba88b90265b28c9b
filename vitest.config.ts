import { defineConfig } from 'vitest/config';

// Unit and integration tests under plain Node: real files, real SQLite, real sockets on loopback.
export default defineConfig({
  test: {
    include: [
      'electron/**/*.test.ts',
      'renderer/**/*.test.ts',
      'renderer/**/*.test.tsx',
      'e2e/harness/**/*.test.ts',
      'e2e/fixtures/**/*.test.ts',
      'eslint-rules/**/*.test.ts',
      'scripts/**/*.test.ts',
      'native/**/*.test.ts',
    ],
    environment: 'node',
    pool: 'forks',
    // The CLI's tests run the built CLI: built here first (a second), since `npm test` builds everything only after Vitest.
    globalSetup: ['scripts/vitest-global-setup.ts'],
    testTimeout: 20_000,
    reporters: process.env.VITEST_JSON_OUTPUT === undefined ? ['default'] : ['default', ['json', { outputFile: process.env.VITEST_JSON_OUTPUT }]],
  },
});
