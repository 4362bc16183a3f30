import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    // Test files share module instances (no per-file re-import of Crawlee): ~2x faster, and no test relies on fresh module state.
    test: { name: 'core', include: ['test/**/*.test.ts'], isolate: false },
});
