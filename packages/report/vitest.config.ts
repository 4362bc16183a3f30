import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    test: { name: 'report', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
