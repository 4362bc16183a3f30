/**
 * Through the proving ground's residential-style gateway (one URL, the exit IP chosen by a hash of the session id in the
 * username, some exits banned), judged by what the gateway and the site recorded: a session retired used up hands its
 * session id (its exit, known to serve) to the next session instead of drawing a new id, and an id that was blocked is
 * never drawn again.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { ProxyConfiguration } from '@crawlee/core';
import { SessionManager } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { BLOCK_KINDS, memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

describe('through a residential-style gateway', () => {
    it('reuses the exit of a used-up session for the next one; a blocked session id is never used again', async () => {
        pg = await startProvingGround({ seed: 7, proxies: { count: 1 }, gateway: { exits: 8, bannedFraction: 0.25 }, site: { categories: 4, productsPerCategory: 20 } });
        const ground = pg;
        const gateway = ground.gateway!;
        const urls = Array.from({ length: 80 }, (_, i) => ground.urlFor(ground.siteHost, `/product/${i + 1}`));
        const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (sessionId) => gateway.urlFor(String(sessionId)) });
        const manager = await SessionManager.open({ proxyConfiguration, pool: { maxUses: 5 }, store: false, statsIntervalSecs: 0, config: memoryConfig() });
        const failed: string[] = [];
        const crawler = new CheerioCrawler(
            withSessions(
                {
                    maxConcurrency: 3,
                    requestHandler: async ({ $, session }) => {
                        if ($('.price').length === 0) {
                            session?.retire();
                            throw new Error('no price on the page');
                        }
                    },
                    failedRequestHandler: async ({ request }, error) => void failed.push(`${request.url}: ${error.message}`),
                },
                manager,
            ),
            memoryConfig(),
        );
        await crawler.run(urls);
        await manager.close();

        const truth = ground.stats();
        const served = new Set(truth.requests.filter((e) => e.kind === 'page').map((e) => e.path));
        expect(failed).toEqual([]);
        expect(served.size).toBe(80);
        // The site's visitors (session cookies) that got pages, and the gateway session ids they came through.
        const visitors = Object.values(truth.bySession).filter((c) => c.pages > 0).length;
        const ids = Object.keys(truth.gateway!.bySessionId);
        // 80 pages at 5 uses per session: at least 16 visitors; through far fewer session ids, each used for several.
        expect(visitors).toBeGreaterThanOrEqual(16);
        expect(ids.length).toBeLessThanOrEqual(visitors / 2);
        expect(Math.max(...ids.map((id) => truth.gateway!.bySessionId[id]!))).toBeGreaterThan(5);
        // Every block came from an id on a banned exit, each such id was blocked once and never sent anything again.
        const blocked = truth.requests.filter((e) => BLOCK_KINDS.has(e.kind)).length;
        const onBanned = ids.filter((id) => gateway.exitFor(id).banned);
        expect(blocked).toBe(onBanned.length);
        for (const id of onBanned) expect(truth.gateway!.bySessionId[id]).toBe(1);
    }, 60_000);
});
