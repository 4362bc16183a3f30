import { defineConfig } from 'vitest/config';

// One run covers every package's own tests plus the cross-package suites in test/.
// `@sessionpack/source` makes workspace imports resolve to TypeScript sources, so tests never run stale builds.
export default defineConfig({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    test: {
        projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
    },
});
