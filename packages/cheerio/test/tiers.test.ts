/**
 * Tiered proxies (issue 11, item 8) in a real CheerioCrawler on the proving ground, judged by what the site saw per
 * client IP: tier 0 is the farm's first subnet (127.0.1.x), tier 1 its second (127.0.2.x). A healthy tier 0 is all a
 * crawl uses; a tier 0 banned on the site costs at most `blockedToMoveUp` (3) blocked requests, plus those already in
 * flight (2 at 3 requests at a time), before the crawl moves to tier 1, which then gets every page; later (a minute on the manager's clock) one new session probes tier 0 again,
 * and once the site lets tier 0 in again the crawl moves back down.
 *
 * Time: the manager runs on the wall clock plus an offset the test moves forward between crawls (no sleeps: a jump
 * past a deadline is certain to be past it); the site's bans recover on the site's own clock, moved the same way.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { ProxyConfiguration } from '@crawlee/core';
import { type Clock, SessionManager } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';

import { withSessions } from '../src/index.js';
import { memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;
let manager: SessionManager | undefined;
afterEach(async () => {
    await manager?.close();
    manager = undefined;
    await pg?.close();
    pg = undefined;
    next = 1;
});

/** The wall clock plus an offset that only moves forward. */
function skewedClock(): Clock & { skip(millis: number): void } {
    let offset = 0;
    return {
        now: () => Date.now() + offset,
        setTimeout: (callback, millis) => {
            const t = setTimeout(callback, Math.max(0, millis));
            t.unref?.();
            return t;
        },
        clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        skip(millis) {
            offset += millis;
        },
    };
}

/** `n` product pages not crawled before in this test (the shop has 5 x 10 products by default). */
let next = 1;
const pages = (ground: ProvingGround, n: number) => Array.from({ length: n }, () => ground.urlFor(ground.siteHost, `/product/${next++}`));

async function crawl(m: SessionManager, urls: string[]) {
    const handled: string[] = [];
    const failed: string[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 3,
                requestHandler: async ({ request }) => void handled.push(request.url),
                failedRequestHandler: async ({ request }, error) => void failed.push(`${request.url}: ${error.message}`),
            },
            m,
        ),
        memoryConfig(),
    );
    await crawler.run(urls);
    return { handled, failed };
}

/** What the site saw since entry `since` of its log, per tier of the client IP. */
function seen(ground: ProvingGround, since: number) {
    const tierOfIp = new Map(ground.proxies.map((p) => [p.ip, p.index < 3 ? 0 : 1]));
    const log = ground.stats().requests.slice(since);
    const of = (tier: number) => log.filter((e) => tierOfIp.get(e.ip) === tier);
    return {
        requests: [of(0).length, of(1).length],
        pages: [of(0).filter((e) => e.kind === 'page').length, of(1).filter((e) => e.kind === 'page').length],
        blocked: [of(0).filter((e) => e.kind !== 'page').length, of(1).filter((e) => e.kind !== 'page').length],
        other: log.filter((e) => !tierOfIp.has(e.ip)).length,
        next: since + log.length,
    };
}

const tiersOf = (ground: ProvingGround) => new ProxyConfiguration({ tieredProxyUrls: [ground.proxyUrls.slice(0, 3), ground.proxyUrls.slice(3, 6)] });

describe('tiered proxies on the proving ground', () => {
    it('a healthy tier 0 is all a crawl uses: no request goes through tier 1', async () => {
        pg = await startProvingGround({ seed: 31, proxies: { count: 6, subnetSize: 3 }, site: { categories: 3 } });
        manager = await SessionManager.open({ proxyConfiguration: tiersOf(pg), store: false, statsIntervalSecs: 0, report: false });
        const urls = pages(pg, 30);
        const result = await crawl(manager, urls);
        expect(result.failed).toEqual([]);
        expect(result.handled).toHaveLength(30);
        const site = seen(pg, 0);
        expect(site.requests).toEqual([30, 0]);
        expect(site.pages[0]).toBe(30);
        // The proxies of tier 1 were not even connected to.
        for (const i of [3, 4, 5]) expect(pg.stats().byProxy[String(i)]?.requests ?? 0).toBe(0);
        expect(manager.stats().pools[pg.siteHost]!.tiers).toEqual({ current: 0, usesPerTier: [30, 0] });
    }, 60_000);

    it('a tier 0 banned on the site: at most 3 + 2 in-flight blocks there, every page through tier 1, one probe of tier 0 a minute later, back down once tier 0 is let in', async () => {
        let siteOffset = 0;
        pg = await startProvingGround({
            seed: 32,
            proxies: { count: 6, subnetSize: 3 },
            // Tier 0's subnet is banned from the start and recovers after an hour of the site's clock.
            site: { bans: { subnets: ['127.0.1'] }, drift: { recoverAfterMs: 3_600_000 } },
            clock: { now: () => Date.now() + siteOffset },
        });
        expect(pg.proxies.map((p) => p.banned)).toEqual([true, true, true, false, false, false]);
        const clock = skewedClock();
        // Sessions live 30 s, so that after each jump of the clock the next crawl needs new sessions (a probe is one).
        manager = await SessionManager.open({ proxyConfiguration: tiersOf(pg), store: false, statsIntervalSecs: 0, report: false, clock, pool: { maxAgeSecs: 30 } });
        const host = pg.siteHost;

        // 1. Tier 0 is blocked: the crawl moves up at the latest on the third proxy-blamed block there (blockedToMoveUp,
        //    3 by default); with 3 requests at a time, at most 2 more were already in flight on tier 0 by then. So at
        //    most 3 + (3 - 1) = 5 blocked requests on tier 0, and not one after: every page comes through tier 1.
        const first = await crawl(manager, pages(pg, 14));
        expect(first.failed).toEqual([]);
        expect(first.handled).toHaveLength(14);
        let site = seen(pg, 0);
        expect(site.requests[0]).toBeGreaterThanOrEqual(1);
        expect(site.requests[0]).toBeLessThanOrEqual(5);
        expect(site.blocked).toEqual([site.requests[0], 0]);
        expect(site.pages).toEqual([0, 14]);
        expect(site.other).toBe(0);
        expect(manager.stats().pools[host]!.tiers).toEqual({ current: 1, usesPerTier: site.requests });

        // 2. A minute later (probeLowerAfterMillis, 60 s by default) the first new session probes tier 0: one request,
        //    still blocked, and the rest stays on tier 1.
        clock.skip(61_000);
        const second = await crawl(manager, pages(pg, 12));
        expect(second.failed).toEqual([]);
        site = seen(pg, site.next);
        expect(site.requests[0]).toBe(1);
        expect(site.blocked[0]).toBe(1);
        expect(site.pages).toEqual([0, 12]);
        expect(manager.stats().pools[host]!.tiers!.current).toBe(1);

        // 3. The site lets tier 0 in again; the failed probe doubled the wait (120 s). The next probe passes and the
        //    crawl moves back down (sessions made on tier 1 while the probe was out keep their proxy).
        siteOffset += 3_600_001;
        clock.skip(121_000);
        const third = await crawl(manager, pages(pg, 12));
        expect(third.failed).toEqual([]);
        site = seen(pg, site.next);
        expect(site.blocked).toEqual([0, 0]);
        expect(site.pages[0]).toBeGreaterThanOrEqual(1);
        expect(site.pages[0]! + site.pages[1]!).toBe(12);
        expect(manager.stats().pools[host]!.tiers!.current).toBe(0);

        // 4. Back on tier 0 for good: once the old sessions are gone, no request goes through tier 1.
        clock.skip(31_000);
        const fourth = await crawl(manager, pages(pg, 12));
        expect(fourth.failed).toEqual([]);
        site = seen(pg, site.next);
        expect(site.requests).toEqual([12, 0]);
        expect(site.pages).toEqual([12, 0]);
        // Uses per tier in the stats are the requests the site saw through each tier.
        const all = seen(pg, 0);
        expect(manager.stats().pools[host]!.tiers!.usesPerTier).toEqual(all.requests);
    }, 120_000);
});
