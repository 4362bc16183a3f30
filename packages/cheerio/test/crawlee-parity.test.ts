/**
 * What a Crawlee user relies on, run through withSessions against the proving ground. Adapted (in our words) from what
 * apify/crawlee 3.x asserts in test/core/crawlers/cheerio_crawler.test.ts and http_crawler.test.ts: cookies across
 * redirects, the implicit router, 5xx pages failing within maxRequestRetries, ignore/additionalHttpErrorStatusCodes,
 * blocked status codes rotating sessions, and sendRequest() going out like the page did. Every assertion is on what the
 * site saw (`pg.stats()`), not on our own objects.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { KeyValueStore } from '@crawlee/core';
import { type SessionManagerOptions } from '@sessionpack/core';
import { type ProvingGround, type RequestLogEntry, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { type CheerioHookExtras, type SessionCrawlerOptions, withSessions } from '../src/index.js';
import { captureOutput, memoryConfig, stockCrawler } from './helpers.js';

let pg: ProvingGround | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

const quiet = { store: false, statsIntervalSecs: 0 } as const;

/** Runs a CheerioCrawler with sessions over `urls`; returns what the handlers saw. */
async function crawl(urls: string[], crawlerOptions: SessionCrawlerOptions, sessions: SessionManagerOptions<CheerioHookExtras>) {
    const handled: string[] = [];
    const failed: { url: string; error: string }[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                requestHandler: async ({ request }) => void handled.push(request.url),
                failedRequestHandler: async ({ request }, error) => void failed.push({ url: request.url, error: error.message }),
                ...crawlerOptions,
            },
            { config: memoryConfig(), ...quiet, ...sessions },
        ),
        memoryConfig(),
    );
    await crawler.run(urls);
    return { handled, failed };
}

const atPath = (log: RequestLogEntry[], path: string) => log.filter((e) => e.path === path);

describe('cookies', () => {
    it('a cookie set on a 302 reaches the next hop and stays in the session (stock Crawlee keeps it too)', async () => {
        pg = await startProvingGround({ seed: 31, proxies: { count: 1 } });
        const first = pg.urlFor('shop.test', '/redirect?to=/product/1');
        const second = pg.urlFor('shop.test', '/product/2');
        // One session, used twice in a row.
        const { handled } = await crawl([first, second], { maxConcurrency: 1 }, { proxyUrls: [...pg.proxyUrls], pool: { size: 1 } });
        expect(handled).toEqual([first, second]);
        const log = pg.stats().requests;
        expect(log.map((e) => e.path)).toEqual(['/redirect?to=/product/1', '/product/1', '/product/2']);
        const [hop, landed, next] = log;
        expect(hop!.kind).toBe('redirect');
        expect(hop!.sid).toBeDefined();
        // The site issued its session on the 302; the redirected request and the session's next page came back with it.
        expect(landed!.sid).toBe(hop!.sid);
        expect(next!.sid).toBe(hop!.sid);
        expect(landed!.kind).toBe('page');

        // Stock CheerioCrawler (its own session pool) does the same: the parity this test holds us to.
        pg.reset();
        const stock = stockCrawler(pg.proxyUrls, { maxConcurrency: 1, sessionPoolOptions: { maxPoolSize: 1 } });
        await stock.crawler.run([pg.urlFor('shop.test', '/redirect?to=/product/3')]);
        const [stockHop, stockLanded] = pg.stats().requests;
        expect(stockHop!.kind).toBe('redirect');
        expect(stockLanded!.sid).toBe(stockHop!.sid);
    });

    it('ctx.sendRequest() goes out as the session: its proxy, cookies and user agent', async () => {
        pg = await startProvingGround({ seed: 32, proxies: { count: 3 }, site: { sessionRequired: true } });
        const sent: number[] = [];
        const urls = [pg.urlFor('shop.test', '/product/1'), pg.urlFor('shop.test', '/product/2')];
        const extra = (n: number) => pg!.urlFor('shop.test', `/product/${3 + n}`);
        const crawler = new CheerioCrawler(
            withSessions(
                {
                    maxConcurrency: 1,
                    requestHandler: async ({ request, sendRequest, $ }) => {
                        if (!$('.price').length) throw new Error(`no price on ${request.url} (landing page?)`);
                        const n = urls.indexOf(request.url);
                        const res = await sendRequest({ url: extra(n) });
                        sent.push(res.statusCode);
                    },
                },
                { proxyUrls: [...pg.proxyUrls], pool: { size: 3 }, config: memoryConfig(), ...quiet },
            ),
            memoryConfig(),
        );
        await crawler.run(urls);
        expect(sent).toEqual([200, 200]);
        const log = pg.stats().requests;
        for (const n of [0, 1]) {
            const [side] = atPath(log, `/product/${3 + n}`);
            const [page] = log.filter((e) => e.path === `/product/${n + 1}` && e.kind === 'page');
            expect(side!.kind).toBe('page'); // with the session cookie: not a landing page
            expect(side!.sid).toBe(page!.sid);
            expect(side!.proxy).toBe(page!.proxy);
            expect(side!.userAgent).toBe(page!.userAgent);
        }
    });
});

describe('checks', () => {
    it("a rule's check runs once per response, with the body and the parsed $", async () => {
        pg = await startProvingGround({ seed: 33, proxies: { count: 2 } });
        const urls = Array.from({ length: 6 }, (_, i) => pg!.urlFor('shop.test', `/product/${i + 1}`));
        const seen: { body: boolean; title: string }[] = [];
        const { handled, failed } = await crawl(urls, { maxConcurrency: 2 }, {
            proxyUrls: [...pg.proxyUrls],
            rules: [
                {
                    match: 'http://shop.test:*/**',
                    check: ({ response, $ }) => {
                        seen.push({ body: typeof response.body === 'string' && response.body.length > 0, title: $?.('title').text() ?? '' });
                        // A check written against the body, as a user would: must not retire anyone on a real page.
                        return response.body!.includes('Price') ? 'keep' : 'retire';
                    },
                },
            ],
        });
        expect(failed).toEqual([]);
        expect(handled.sort()).toEqual([...urls].sort());
        const pages = pg.stats().requests.filter((e) => e.kind === 'page');
        expect(pages).toHaveLength(6);
        expect(seen).toHaveLength(pages.length);
        expect(seen.every((s) => s.body && /Product \d/.test(s.title))).toBe(true);
    });
});

describe('status codes', () => {
    it('a 5xx page fails within maxRequestRetries (Crawlee: "when statusCode >= 500"), without stopping a direct crawl', async () => {
        pg = await startProvingGround({ seed: 34, exposeDirect: true });
        const html = Array.from({ length: 7 }, (_, i) => `${pg!.directUrl}/status/500?n=${i}`);
        const json = `${pg.directUrl}/status/503?type=application/json`;
        const started = Date.now();
        // A long backoff and a short acquire timeout: had the direct connection been blamed (3 × 5 target errors in a row
        // back a proxy off), the 24 errors here would stop the crawl with "No usable proxy" within 2 s.
        const { output, result } = await captureOutput(() =>
            crawl([...html, json], { maxRequestRetries: 2, maxConcurrency: 2 }, { proxyBackoff: { baseMillis: 60_000 }, pool: { acquireTimeoutSecs: 2 } }),
        );
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(result.handled).toEqual([]);
        expect(result.failed.map((f) => f.url).sort()).toEqual([...html, json].sort());
        expect(result.failed.every((f) => /^50[03] - /.test(f.error))).toBe(true);
        // 1 + maxRequestRetries requests per URL, no more (session rotations do not apply to the target's errors).
        for (const url of [...html, json]) expect(atPath(pg.stats().requests, new URL(url).pathname + new URL(url).search)).toHaveLength(3);
        expect(output).not.toMatch(/No usable proxy|Stopping the crawl/);
    });

    it('a challenge page served as a 503 is a block: retried on other sessions, not as a target error', async () => {
        pg = await startProvingGround({ seed: 42, proxies: { count: 6 } });
        const path = '/status/503?page=challenge';
        const { failed } = await crawl([pg.urlFor('shop.test', path)], { maxSessionRotations: 2, maxRequestRetries: 0 }, { proxyUrls: [...pg.proxyUrls] });
        expect(failed).toHaveLength(1);
        expect(failed[0]!.error).toMatch(/^blocked: .*\(503\)/);
        // maxRequestRetries: 0 would allow one request for a target error; a block gets 1 + maxSessionRotations sessions.
        const seen = atPath(pg.stats().requests, path);
        expect(seen.map((e) => e.kind)).toEqual(['challenge', 'challenge', 'challenge']);
        expect(new Set(seen.map((e) => e.sid)).size).toBe(3);
    });

    it('maxRequestRetries: 0 sends one request for a 5xx', async () => {
        pg = await startProvingGround({ seed: 35, exposeDirect: true });
        const url = `${pg.directUrl}/status/502`;
        const { failed } = await crawl([url], { maxRequestRetries: 0 }, {});
        expect(failed).toHaveLength(1);
        expect(atPath(pg.stats().requests, '/status/502')).toHaveLength(1);
    });

    it('ignoreHttpErrorStatusCodes reach the handler; additionalHttpErrorStatusCodes fail like errors', async () => {
        pg = await startProvingGround({ seed: 36, exposeDirect: true });
        const ignored = `${pg.directUrl}/status/500`;
        const added = `${pg.directUrl}/status/404`;
        const { handled, failed } = await crawl([ignored, added], {
            maxRequestRetries: 1,
            ignoreHttpErrorStatusCodes: [500],
            additionalHttpErrorStatusCodes: [404],
        }, {});
        expect(handled).toEqual([ignored]);
        expect(failed.map((f) => f.url)).toEqual([added]);
        expect(failed[0]!.error).toMatch(/^404 - /);
        const log = pg.stats().requests;
        expect(atPath(log, '/status/500')).toHaveLength(1);
        expect(atPath(log, '/status/404')).toHaveLength(2);
    });

    it('a 403 in a content type Crawlee refuses is retried on other sessions (Crawlee: blocked status codes rotate)', async () => {
        pg = await startProvingGround({ seed: 37, proxies: { count: 6 } });
        const url = pg.urlFor('shop.test', '/status/403?type=text/plain');
        const { failed } = await crawl([url], { maxSessionRotations: 3 }, { proxyUrls: [...pg.proxyUrls] });
        expect(failed).toHaveLength(1);
        expect(failed[0]!.error).toMatch(/blocked/);
        const seen = atPath(pg.stats().requests, '/status/403?type=text/plain');
        expect(seen).toHaveLength(4);
        expect(new Set(seen.map((e) => e.sid)).size).toBe(4);
    });

    it('a 429 says the session cools down, not that it rotates', async () => {
        pg = await startProvingGround({ seed: 38, proxies: { count: 2 } });
        const url = pg.urlFor('shop.test', '/status/429');
        const { output } = await captureOutput(() =>
            crawl([url], { maxSessionRotations: 1 }, { proxyUrls: [...pg!.proxyUrls], pool: { rateLimitCooldownMillis: 10 } }),
        );
        expect(atPath(pg.stats().requests, '/status/429')).toHaveLength(2);
        expect(output).toMatch(/rate-limited: .*is kept, cooling down/);
        expect(output).not.toMatch(/rotating session/);
    });
});

describe('timeouts', () => {
    it('a navigation timeout is retried within maxRequestRetries, not as a session rotation (Crawlee: "after navigationTimeoutSecs")', async () => {
        // The site answers after 6 s, the crawler gives up after 1 s: a wide margin on a loaded machine.
        pg = await startProvingGround({ seed: 41, proxies: { count: 2 }, site: { latencyMs: 6000 } });
        const url = pg.urlFor('shop.test', '/product/1');
        const { output, result } = await captureOutput(() =>
            crawl([url], { navigationTimeoutSecs: 1, maxRequestRetries: 1, maxSessionRotations: 5 }, { proxyUrls: [...pg!.proxyUrls] }),
        );
        expect(result.failed).toHaveLength(1);
        expect(result.failed[0]!.error).toMatch(/timed out/);
        // 1 + maxRequestRetries attempts went out through the proxies (maxSessionRotations does not apply); the site
        // logs an answer only once it is sent, and these were abandoned first.
        const sent = Object.values(pg.stats().byProxy).reduce((n, p) => n + p.requests, 0);
        expect(sent).toBe(2);
        expect(pg.stats().requests).toHaveLength(0);
        expect(output).not.toMatch(/Stopping the crawl/);
    });
});

describe('crawler shapes', () => {
    it("works with Crawlee's implicit router (no requestHandler)", async () => {
        pg = await startProvingGround({ seed: 39, proxies: { count: 2 } });
        const handled: string[] = [];
        const crawler = new CheerioCrawler(withSessions({}, { proxyUrls: [...pg.proxyUrls], config: memoryConfig(), ...quiet }), memoryConfig());
        crawler.router.addDefaultHandler(async ({ request, session }) => void handled.push(`${request.url} ${session ? 'with session' : 'none'}`));
        const url = pg.urlFor('shop.test', '/product/3');
        await crawler.run([url]);
        expect(handled).toEqual([`${url} with session`]);
        expect(atPath(pg.stats().requests, '/product/3')).toHaveLength(1);
    });

    it('closes the manager it opened when the run ends: final stats line, stored stats record, no persist listener', async () => {
        pg = await startProvingGround({ seed: 40, proxies: { count: 2 } });
        const config = memoryConfig();
        const events = config.getEventManager();
        const listenersBefore = events.listenerCount('persistState' as never);
        const { output } = await captureOutput(async () => {
            const crawler = new CheerioCrawler(
                withSessions({ requestHandler: async () => {} }, { proxyUrls: [...pg!.proxyUrls], statsIntervalSecs: 0, config }),
                config,
            );
            await crawler.run([pg!.urlFor('shop.test', '/product/1'), pg!.urlFor('shop.test', '/product/2')]);
        });
        expect(output).toMatch(/Final: 1 pools/);
        const store = await KeyValueStore.open('sessionpack', { config });
        const stats = await store.getValue<{ totals: { counters: Record<string, number> } }>('SESSIONPACK_STATS');
        expect(stats?.totals.counters['use/ok']).toBe(2);
        expect(events.listenerCount('persistState' as never)).toBe(listenersBefore);
        expect(pg.stats().byHost['shop.test']!.pages).toBe(2);
    });
});
