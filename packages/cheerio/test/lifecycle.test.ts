/**
 * What happens around the crawl: state that survives a restart, a crawl whose proxies are all dead, and
 * proxy credentials that never leak into logs, stats or the stored state.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, KeyValueStore } from '@crawlee/core';
import { SessionManager, type SessionManagerOptions } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { captureOutput, memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

const products = (ground: ProvingGround, n: number, from = 1) => Array.from({ length: n }, (_, i) => ground.urlFor(ground.siteHost, `/product/${from + i}`));

async function crawl(urls: string[], sessions: SessionManager | SessionManagerOptions, crawlerConfig = memoryConfig()) {
    const handled: string[] = [];
    const failed: { url: string; error: string }[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 5,
                requestHandler: async ({ request }) => void handled.push(request.url),
                failedRequestHandler: async ({ request }, error) => void failed.push({ url: request.url, error: error.message }),
            },
            sessions,
        ),
        crawlerConfig,
    );
    await crawler.run(urls);
    return { handled, failed };
}

describe('lifecycle', () => {
    it('a second run with the same store restores sessions and does not retry proxies still in backoff', async () => {
        pg = await startProvingGround({ seed: 4, proxies: { count: 6, dead: { tunnelError: 2 } }, site: { sessionRequired: true } });
        const dead = pg.proxies.filter((p) => p.dead);
        expect(dead).toHaveLength(2);
        const storeConfig = memoryConfig(); // one in-memory storage shared by both runs, like a disk between restarts
        // Round-robin fills the pool over every proxy in turn, so run 1 meets the dead ones (the default grows on demand
        // and may never try them in 20 pages, which left the test nothing to check).
        const options = { proxyUrls: [...pg.proxyUrls], pool: { size: 6, policy: 'round-robin' as const }, statsIntervalSecs: 0, config: storeConfig, proxyBackoff: { baseMillis: 60_000 } };

        const first = await SessionManager.open(options);
        const run1 = await crawl(products(pg, 20), first, storeConfig);
        await first.close();
        expect(run1.failed).toEqual([]);
        const sidsRun1 = new Set(pg.stats().requests.filter((e) => e.kind === 'page').map((e) => e.sid));
        // Run 1 tried dead proxies: they saw connections (and answered them with a tunnel error); they are in backoff now.
        const triedDead = dead.filter((p) => pg!.stats().byProxy[p.index]!.connections > 0);
        expect(triedDead.length).toBeGreaterThan(0);

        // The site keeps its sessions between the runs, as a real one would: only the crawler restarts.
        const before = pg.stats();
        const second = await SessionManager.open(options);
        const run2 = await crawl(products(pg, 20, 21), second, storeConfig);
        await second.close();
        expect(run2.failed).toEqual([]);
        const after = pg.stats();
        const truth = { requests: after.requests.slice(before.requests.length), totals: { landings: after.totals.landings - before.totals.landings } };
        // The dead proxies, still in backoff from run 1, got no connection at all in run 2.
        for (const p of triedDead) expect(after.byProxy[p.index]!.connections).toBe(before.byProxy[p.index]!.connections);
        // Restored sessions came back with their site cookies: run 2's pages were served to run 1's session cookies,
        // and only sessions created in run 2 needed a landing page.
        const pagesRun2 = truth.requests.filter((e) => e.kind === 'page');
        expect(pagesRun2).toHaveLength(20);
        const restoredPages = pagesRun2.filter((e) => sidsRun1.has(e.sid));
        expect(restoredPages.length).toBeGreaterThan(0);
        const newSids = new Set(pagesRun2.filter((e) => !sidsRun1.has(e.sid)).map((e) => e.sid));
        // (A session whose only request in run 1 was its landing page shows up as a new cookie here, without a landing.)
        expect(truth.totals.landings).toBeLessThanOrEqual(newSids.size);
        expect(truth.totals.landings).toBeLessThan(6);
    });

    it('every proxy dead: the crawl ends with the reason, every request reaches failedRequestHandler, nothing hangs', async () => {
        pg = await startProvingGround({ seed: 6, proxies: { count: 4, dead: { refuse: 2, tunnelError: 2 } } });
        const urls = products(pg, 12);
        const started = Date.now();
        const { result, output } = await captureOutput(() =>
            crawl(urls, { proxyUrls: [...pg!.proxyUrls], store: false, statsIntervalSecs: 0, pool: { size: 4, acquireTimeoutSecs: 5 }, proxyBackoff: { baseMillis: 30_000 } }),
        );
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(result.handled).toEqual([]);
        expect(result.failed.map((f) => f.url).sort()).toEqual([...urls].sort());
        // The ones that could not get a session say why; none is left without a reason.
        const stopped = result.failed.filter((f) => /sessionpack stopped the crawl/.test(f.error));
        expect(stopped.length).toBeGreaterThan(0);
        for (const f of stopped) expect(f.error).toMatch(/proxy|prox/i);
        expect(output).toMatch(/Stopping the crawl: .*prox/i);
        expect(pg.stats().totals.requests).toBe(0);
    });

    it('never writes a proxy password to logs, stats or the stored state', async () => {
        const password = 'pa55-w0rd-SECRET';
        pg = await startProvingGround({ seed: 8, proxies: { count: 5, auth: { username: 'crawler', password }, dead: { refuse: 1, tunnelError: 1 } }, site: { bans: { fraction: 0.4 } } });
        expect(pg.proxyUrls.every((u) => u.includes(password))).toBe(true);
        const storeConfig = memoryConfig();
        const { output, result } = await captureOutput(async () => {
            const manager = await SessionManager.open({ proxyUrls: [...pg!.proxyUrls], pool: { size: 3 }, statsIntervalSecs: 0.2, config: storeConfig });
            const run = await crawl(products(pg!, 25), manager);
            const stats = manager.stats();
            await manager.close();
            return { run, stats };
        });
        expect(result.run.handled.length).toBe(25); // the crawl really went through the authenticated proxies
        expect(pg.stats().byProxy[pg.proxies.find((p) => !p.dead)!.index]!.authFailures).toBe(0);
        const store = await KeyValueStore.open('sessionpack', { config: storeConfig as Configuration });
        const records: string[] = [];
        await store.forEachKey(async (key) => void records.push(JSON.stringify(await store.getValue(key))));
        expect(records.length).toBeGreaterThanOrEqual(2); // state and final stats
        // The crawl report and its data, in the default store.
        const reportStore = await KeyValueStore.open(null, { config: storeConfig as Configuration });
        const report = [String(await reportStore.getValue('SESSIONPACK_REPORT')), JSON.stringify(await reportStore.getValue('SESSIONPACK_REPORT_DATA'))];
        expect(report[0]).toContain('data-pool="shop.test"');
        expect(output).toMatch(/SessionManager/); // the periodic and final stats lines were logged
        for (const [where, text] of [['log output', output], ['stats', JSON.stringify(result.stats)], ['stored state', records.join('\n')], ['crawl report', report.join('\n')]] as const) {
            expect(text.includes(password), `password found in ${where}`).toBe(false);
        }
    });
});
