import { defineProject } from 'vitest/config';

export default defineProject({
    resolve: { conditions: ['@sessionpack/source'] },
    ssr: { resolve: { conditions: ['@sessionpack/source'] } },
    test: { name: 'cheerio', include: ['test/**/*.test.ts'] },
});
