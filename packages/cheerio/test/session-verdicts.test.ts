/**
 * A handler's own verdicts on `ctx.session` take effect, whatever the session's past, and Crawlee's bookkeeping calls
 * after the handler do not count a use twice. Checked on the site's side: which session (cookie) sent each request.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { SessionManager } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

async function crawl(verdict: 'retire' | 'markBad', onRequest: number) {
    pg = await startProvingGround({ seed: 21, proxies: { count: 3 } });
    const urls = Array.from({ length: 6 }, (_, i) => pg!.urlFor('shop.test', `/product/${i + 1}`));
    const manager = await SessionManager.open({
        proxyUrls: [...pg.proxyUrls],
        pool: { size: 1, maxErrorScore: 1, maxUses: 100 },
        store: false,
        statsIntervalSecs: 0,
        config: memoryConfig(),
    });
    let n = 0;
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 1,
                requestHandler: async ({ session }) => {
                    if (++n === onRequest) session![verdict]();
                },
            },
            manager,
        ),
        memoryConfig(),
    );
    await crawler.run(urls);
    const stats = manager.stats().totals;
    await manager.close();
    const pages = pg.stats().requests.filter((e) => e.path.startsWith('/product/')).sort((a, b) => a.t - b.t);
    return { pages, stats };
}

describe("the user's verdicts on ctx.session", () => {
    it('retire() on a session used twice before retires it: the next requests come from another session', async () => {
        const { pages, stats } = await crawl('retire', 3);
        expect(pages).toHaveLength(6);
        const sids = pages.map((e) => e.sid);
        expect(new Set(sids.slice(0, 3)).size).toBe(1);
        expect(sids.slice(3).every((sid) => sid !== sids[0])).toBe(true);
        // The use it was called in counts once, as blocked (what retire() means); Crawlee's own calls added nothing.
        expect([stats.counters['use/ok'], stats.counters['use/blocked'], stats.counters['session/retired']]).toEqual([5, 1, 1]);
    });

    it('markBad() on a session used twice before counts against it (max error score 1 retires it)', async () => {
        const { pages, stats } = await crawl('markBad', 3);
        expect(pages).toHaveLength(6);
        const sids = pages.map((e) => e.sid);
        expect(new Set(sids.slice(0, 3)).size).toBe(1);
        expect(sids.slice(3).every((sid) => sid !== sids[0])).toBe(true);
        expect([stats.counters['use/ok'], stats.counters['use/target-error']]).toEqual([5, 1]);
    });
});
