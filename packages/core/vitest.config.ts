import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    // Test files share module instances (no per-file re-import of Crawlee): ~2x faster, and no test relies on fresh module state.
    // Projects do not inherit the root's timeouts: the property tests need their own on a loaded 2-core machine.
    test: { name: 'core', include: ['test/**/*.test.ts'], isolate: false, testTimeout: 120_000 },
});
