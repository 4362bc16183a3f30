import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    test: { name: 'browser', include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 240_000 },
});
