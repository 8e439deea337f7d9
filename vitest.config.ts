import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The resource tests count memory mappings after a forced GC (mappings are released by the GC).
    execArgv: ['--expose-gc'],
  },
});
