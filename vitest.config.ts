import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Servers in these tests bind 127.0.0.1 ports; files run in parallel workers.
    pool: 'forks',
  },
});
