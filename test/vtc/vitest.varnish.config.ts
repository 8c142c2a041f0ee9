// Vitest settings for `npm run conformance:varnish`: the runner and the checker's cases proven
// against real varnishd 7.1. Kept out of `npm test`, which must not need varnishd installed.

import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: resolve(import.meta.dirname, '../..'),
    include: ['test/**/*.varnish.ts'],
    testTimeout: 180_000,
    pool: 'forks',
  },
});
