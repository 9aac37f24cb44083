/**
 * The one vitest base config every project extends.
 *
 * Workspace packages resolve to their TypeScript source through the
 * `@weft/source` export condition, so tests never wait for a build of their
 * dependencies; the package tests that import `dist/` as outside users would
 * do so in a child Node process without that condition.
 */
import { defineConfig } from 'vitest/config';

// Vitest also hands these to its worker processes as `--conditions`, which
// reach CommonJS `require()` too: so no `import` here (it would make
// require() of dual packages load their ESM build).
const conditions = ['@weft/source', 'node'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@weft/source'] } },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
  },
});
