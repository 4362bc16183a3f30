import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    // Each file starts its own redis-server; files run one after another so two servers never compete for the 2 cores.
    test: { name: 'redis', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false },
});
