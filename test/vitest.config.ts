import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    test: { name: 'integration', include: ['**/*.test.ts'], exclude: ['**/node_modules/**'], testTimeout: 300_000, hookTimeout: 300_000 },
});
