/**
 * One crawler process (of the redis benchmark and of test/redis-workers.test.ts): a CheerioCrawler with withSessions on
 * the proving ground its parent started, sharing state through Redis when `redis` is given. Config: JSON in argv[2]. Reports on stdout, one JSON
 * object per line: `{ type: 'ready' }`, `{ type: 'page', url, sessionId }`, `{ type: 'failed', url, error }`,
 * `{ type: 'done', stats }`. Crawlee's log goes to stderr.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, log, LogLevel } from '@crawlee/core';
import { withSessions } from '@sessionpack/cheerio';
import { SessionManager, type PoolOptions, type SessionManagerOptions } from '@sessionpack/core';
import { redisStore } from '@sessionpack/redis';

import { shopRule } from '../e2e/shop.js';

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
    /** Crawlee's log level on stderr. @default 'WARNING' */
    logLevel?: 'WARNING' | 'INFO';
    /** The proving ground's shop warm-up (landing, location form, CSRF token) and a price check on every page. */
    shopSiteUrl?: string;
    /** @default 20 */
    maxRequestRetries?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as CrawlWorkerConfig;
const emit = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ worker: config.name, ...event })}\n`);
log.setLevel(config.logLevel === 'INFO' ? LogLevel.INFO : LogLevel.WARNING);

function storeOption(): SessionManagerOptions['store'] {
    if (!config.redis) return false;
    return { custom: redisStore({ ...config.redis, workerId: config.name }) };
}

const crawleeConfig = new Configuration({ persistStorage: false, purgeOnStart: true });
const manager = await SessionManager.open({
    proxyUrls: config.proxyUrls,
    pool: config.pool ?? { size: 4 },
    statsIntervalSecs: 0,
    config: crawleeConfig,
    store: storeOption(),
    rules: config.shopSiteUrl
        ? [shopRule(config.shopSiteUrl)]
        : config.initUrl
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
            maxRequestRetries: config.maxRequestRetries ?? 20,
            maxSessionRotations: config.maxRequestRetries ?? 20,
            requestHandler: async ({ request, session, $ }) => {
                if (config.shopSiteUrl && $('.price').length === 0) {
                    session?.retire();
                    throw new Error('no product on the page (block page, landing page or captcha)');
                }
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
