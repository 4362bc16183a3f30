/**
 * One crawler process of the multi-process tests: a CheerioCrawler with withSessions, on the proving ground the test
 * started, sharing state through Redis when `redis` is given. Config: JSON in argv[2]. Reports on stdout, one JSON
 * object per line: `{ type: 'ready' }`, `{ type: 'page', url, sessionId }`, `{ type: 'failed', url, error }`,
 * `{ type: 'done', stats }`. Crawlee's log goes to stderr.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, log, LogLevel } from '@crawlee/core';
import { withSessions } from '@sessionpack/cheerio';
import { SessionManager, type PoolOptions, type SessionManagerOptions } from '@sessionpack/core';

export interface CrawlWorkerConfig {
    name: string;
    urls: string[];
    proxyUrls: string[];
    pool?: PoolOptions;
    maxConcurrency?: number;
    /** Warm every new session up by loading this URL first (it gets the site's session cookie). */
    initUrl?: string;
    /** Share state through this Redis. */
    redis?: { url: string; prefix: string; leaseTtlMillis?: number; syncIntervalMillis?: number };
    /** Wait this long between pages (so a test can act mid-crawl). */
    pageDelayMillis?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as CrawlWorkerConfig;
const emit = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ worker: config.name, ...event })}\n`);
log.setLevel(LogLevel.WARNING);

async function storeOption(): Promise<SessionManagerOptions['store']> {
    if (!config.redis) return false;
    const { redisStore } = await import('../../src/index.js');
    return { custom: redisStore({ ...config.redis, workerId: config.name }) as never };
}

const crawleeConfig = new Configuration({ persistStorage: false, purgeOnStart: true });
const manager = await SessionManager.open({
    proxyUrls: config.proxyUrls,
    pool: config.pool ?? { size: 4 },
    statsIntervalSecs: 0,
    config: crawleeConfig,
    store: await storeOption(),
    rules: config.initUrl
        ? [
              {
                  match: () => true,
                  init: async ({ sendRequest }) => {
                      const res = await sendRequest({ url: config.initUrl! });
                      if (res.statusCode !== 200) throw new Error(`warm-up got ${res.statusCode}`);
                  },
              },
          ]
        : [],
});
emit({ type: 'ready' });
const crawler = new CheerioCrawler(
    withSessions(
        {
            maxConcurrency: config.maxConcurrency ?? 4,
            maxRequestRetries: 20,
            requestHandler: async ({ request, session }) => {
                emit({ type: 'page', url: request.url, sessionId: session?.id });
                if (config.pageDelayMillis) await new Promise((r) => setTimeout(r, config.pageDelayMillis));
            },
            failedRequestHandler: async ({ request }, error) => void emit({ type: 'failed', url: request.url, error: error.message }),
        },
        manager,
    ),
    crawleeConfig,
);
await crawler.run(config.urls);
const stats = manager.stats();
await manager.close();
emit({ type: 'done', stats: stats.totals.counters });
process.exit(0);
