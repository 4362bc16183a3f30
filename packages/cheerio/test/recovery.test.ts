/**
 * Nothing a crawl learns from its own mistakes locks it out (issue 11): two runs with a check that retires every page
 * (a buggy check), or two runs during a site-wide 403 (an outage), then a third run with a good check on a healthy
 * site, all through the same on-disk store. The third run gets every page, as the site counts them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration } from '@crawlee/core';
import { SessionManager, type SessionManagerOptions } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';

import { withSessions } from '../src/index.js';
import { captureOutput, memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;
let dir: string | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
});

const products = (ground: ProvingGround, n: number, from: number) => Array.from({ length: n }, (_, i) => ground.urlFor(ground.siteHost, `/product/${from + i}`));

/** One run: a fresh manager on the on-disk store (as after a restart) and a crawler with its own queue. */
async function run(storeDir: string, options: SessionManagerOptions, urls: string[]) {
    // A new Configuration per run: nothing is shared in memory, the state comes back from the files.
    const storeConfig = new Configuration({ persistStorage: true, purgeOnStart: false, storageClientOptions: { localDataDirectory: storeDir } });
    const manager = await SessionManager.open({ ...options, statsIntervalSecs: 0, config: storeConfig });
    const handled: string[] = [];
    const failed: string[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 5,
                requestHandler: async ({ request }) => void handled.push(request.url),
                failedRequestHandler: async (_ctx, error) => void failed.push(error.message),
            },
            manager,
        ),
        memoryConfig(),
    );
    await crawler.run(urls);
    await manager.close();
    return { handled, failed };
}

function pagesServed(ground: ProvingGround, urls: string[], since: number): number {
    const paths = new Set(urls.map((u) => new URL(u).pathname));
    return new Set(ground.stats().requests.slice(since).filter((e) => e.kind === 'page' && paths.has(e.path)).map((e) => e.path)).size;
}

describe('recovery through the stored state', () => {
    it('a buggy check that retires everything, twice: the third run with a good check gets every page', async () => {
        pg = await startProvingGround({ seed: 8, proxies: { count: 8 } });
        dir = mkdtempSync(join(tmpdir(), 'sessionpack-buggy-check-'));
        const base = { proxyUrls: [...pg.proxyUrls], learner: { siteWide: { stopAfterMillis: 4_000 } } } as SessionManagerOptions;
        const buggy = { ...base, rules: [{ match: `${pg.siteUrl}/**`, check: () => 'retire' as const }] };
        for (const from of [1, 11]) {
            const { result, output } = await captureOutput(() => run(dir!, buggy, products(pg!, 10, from)));
            expect(result.handled).toEqual([]);
            expect(result.failed).toHaveLength(10);
            // Said as the site's or the check's fault, not the proxies'.
            expect(`${output}\n${result.failed.join('\n')}`).toMatch(/the site may be down or the check may be wrong/);
            expect(result.failed.join('\n')).not.toMatch(/banned for this site/);
        }
        // The site served real pages to the buggy runs: the check, not the site, was wrong.
        expect(pg.stats().totals.pages).toBeGreaterThan(0);
        const since = pg.stats().requests.length;
        const urls = products(pg, 20, 21);
        const good = await run(dir, base, urls);
        expect(good.failed).toEqual([]);
        expect(pagesServed(pg, urls, since)).toBe(20);
        expect(pg.stats().requests.slice(since).filter((e) => e.kind !== 'page')).toEqual([]);
    }, 120_000);

    it('a 10 s site-wide 403, twice: the third run on the healthy site gets every page', async () => {
        pg = await startProvingGround({ seed: 9, proxies: { count: 8 }, site: { categories: 10, productsPerCategory: 10 } });
        dir = mkdtempSync(join(tmpdir(), 'sessionpack-outage-'));
        const options = { proxyUrls: [...pg.proxyUrls] } as SessionManagerOptions;
        for (const from of [1, 31]) {
            pg.startOutage(10_000);
            const before = pg.stats().totals.forbidden;
            await run(dir, options, products(pg, 30, from));
            // The crawl did run into the outage.
            expect(pg.stats().totals.forbidden - before).toBeGreaterThanOrEqual(5);
        }
        pg.reset();
        const urls = products(pg, 20, 61);
        const started = Date.now();
        const third = await run(dir, options, urls);
        expect(third.failed).toEqual([]);
        expect(pagesServed(pg, urls, 0)).toBe(20);
        expect(pg.stats().totals.forbidden).toBe(0);
        // No proxy was held against the outage: the site saw the third run at once, not after backoffs ran out.
        expect(pg.stats().requests[0]!.t - started).toBeLessThan(4_000);
    }, 120_000);
});
