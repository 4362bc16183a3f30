/**
 * Failures that are not the session's fault stay that way, and failures that are cannot rotate forever.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { SessionManager } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { captureOutput, memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

describe('errors', () => {
    it("the user's handler errors are handler errors: the session is kept and the request retried", async () => {
        pg = await startProvingGround({ seed: 12, proxies: { count: 4 } });
        const urls = Array.from({ length: 12 }, (_, i) => pg!.urlFor('shop.test', `/product/${i + 1}`));
        const manager = await SessionManager.open({ proxyUrls: [...pg.proxyUrls], pool: { size: 2 }, store: false, statsIntervalSecs: 0, config: memoryConfig() });
        const attempts = new Map<string, number>();
        const crawler = new CheerioCrawler(
            withSessions(
                {
                    maxConcurrency: 2,
                    requestHandler: async ({ request }) => {
                        const n = (attempts.get(request.url) ?? 0) + 1;
                        attempts.set(request.url, n);
                        if (n === 1) throw new Error('my parser broke');
                    },
                },
                manager,
            ),
            memoryConfig(),
        );
        await crawler.run(urls);
        const counters = manager.stats().totals.counters;
        await manager.close();
        expect([...attempts.values()]).toEqual(urls.map(() => 2));
        expect(counters['use/handler-error']).toBe(12);
        expect(counters['use/blocked']).toBe(0);
        expect(counters['session/retired']).toBe(0);
        // The site saw 24 page requests from just the pool's two sessions: nobody was burnt for our own bug.
        const pages = pg.stats().requests.filter((e) => e.kind === 'page');
        expect(pages).toHaveLength(24);
        expect(new Set(pages.map((e) => e.sid)).size).toBeLessThanOrEqual(2);
    });

    it('a page that blocks everyone fails after a bounded number of sessions, with the reason', async () => {
        pg = await startProvingGround({ seed: 13, proxies: { count: 20 }, site: { challenges: { fraction: 1 } } });
        const url = pg.urlFor('shop.test', '/product/1');
        const failed: string[] = [];
        const sessions: string[] = [];
        const crawler = new CheerioCrawler(
            withSessions(
                {
                    maxSessionRotations: 3,
                    requestHandler: async () => {},
                    errorHandler: async ({ session }) => void sessions.push(session!.id),
                    failedRequestHandler: async ({ session }, error) => {
                        sessions.push(session!.id);
                        failed.push(error.message);
                    },
                },
                { proxyUrls: [...pg.proxyUrls], store: false, statsIntervalSecs: 0, config: memoryConfig() },
            ),
            memoryConfig(),
        );
        await crawler.run([url]);
        expect(failed).toHaveLength(1);
        expect(failed[0]).toMatch(/blocked/);
        // One first attempt plus at most maxSessionRotations more, each on another session, through more than one IP.
        const seen = pg.stats().requests.filter((e) => e.path === '/product/1');
        expect(seen.length).toBeLessThanOrEqual(4);
        expect(seen.length).toBeGreaterThanOrEqual(2);
        expect(sessions).toHaveLength(seen.length);
        expect(new Set(sessions).size).toBe(seen.length);
        expect(new Set(seen.map((e) => e.ip)).size).toBeGreaterThan(1);
        expect(seen.every((e) => e.kind === 'challenge')).toBe(true);
    });

    it('when every proxy refuses, the remaining requests fail with one line each and a summary, no stacks', async () => {
        pg = await startProvingGround({ seed: 14, proxies: { count: 3, dead: { refuse: 3 } } });
        const urls = Array.from({ length: 30 }, (_, i) => pg!.urlFor('shop.test', `/product/${i + 1}`));
        const failed: string[] = [];
        const { output } = await captureOutput(async () => {
            const crawler = new CheerioCrawler(
                withSessions(
                    { maxConcurrency: 3, requestHandler: async () => {}, failedRequestHandler: async (_ctx, error) => void failed.push(error.message) },
                    { proxyUrls: [...pg!.proxyUrls], pool: { acquireTimeoutSecs: 1 }, store: false, statsIntervalSecs: 0, config: memoryConfig() },
                ),
                memoryConfig(),
            );
            await crawler.run(urls);
        });
        expect(failed).toHaveLength(30);
        const stopped = failed.filter((m) => m.startsWith('sessionpack stopped the crawl'));
        expect(stopped.length).toBeGreaterThan(20);
        const lines = output.split('\n');
        // Crawlee prints the stack of each failed request: ours is one line (was ~10 per request).
        const stopLines = lines.filter((l) => l.includes('SessionsUnavailableError'));
        expect(stopLines.length).toBeGreaterThanOrEqual(stopped.length);
        const stackLines = lines.filter((l) => /^\s+at /.test(l));
        expect(stackLines.length).toBeLessThan(60);
        expect(output).toMatch(new RegExp(`${stopped.length} requests failed because the crawl stopped: No usable proxy`));
        expect(output).not.toMatch(/\.\. Remaining/);
        expect(output).toMatch(/Stopping the crawl: No usable proxy[^\n]*wait longer\. Remaining requests fail/);
    });

    it('a 407 says the proxy rejected its credentials, without printing them', async () => {
        pg = await startProvingGround({ seed: 15, proxies: { count: 2, auth: { username: 'crawler', password: 'right-secret' } } });
        const wrong = pg.proxyUrls.map((u) => u.replace('right-secret', 'wrong-secret'));
        const failed: string[] = [];
        const { output } = await captureOutput(async () => {
            const crawler = new CheerioCrawler(
                withSessions(
                    { maxSessionRotations: 2, requestHandler: async () => {}, failedRequestHandler: async (_ctx, error) => void failed.push(error.message) },
                    { proxyUrls: wrong, pool: { acquireTimeoutSecs: 1 }, store: false, statsIntervalSecs: 0, config: memoryConfig() },
                ),
                memoryConfig(),
            );
            await crawler.run([pg!.urlFor('shop.test', '/product/1')]);
        });
        expect(failed).toHaveLength(1);
        const { host } = new URL(pg.proxyUrls[0]!);
        expect(output).toMatch(new RegExp(`proxy [^ ]+ \\(proxy_[0-9a-f]+\\) rejected its credentials \\(407`));
        expect(output).toContain(host.split(':')[0]!);
        expect(output).not.toContain('wrong-secret');
        expect(failed.join('\n')).not.toContain('wrong-secret');
        // The site never saw the request: the proxies refused it.
        expect(pg.stats().requests).toHaveLength(0);
    });
});
