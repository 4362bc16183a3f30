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
        // Seeded: the session ids (so the exits they hash to) are the same every run.
        let state = 1;
        const random = () => {
            state = (state + 0x6d2b79f5) | 0;
            let t = Math.imul(state ^ (state >>> 15), 1 | state);
            t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
            return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const manager = await SessionManager.open({ proxyConfiguration, pool: { maxUses: 5 }, store: false, statsIntervalSecs: 0, random, config: memoryConfig() });
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
        expect(ids.length, `${ids.length} gateway session ids for ${visitors} visitors`).toBeLessThanOrEqual(visitors / 2);
        expect(Math.max(...ids.map((id) => truth.gateway!.bySessionId[id]!))).toBeGreaterThan(5);
        // Blocks come only from ids on banned exits, at most one each: such an id sent one request and never another.
        const blocked = truth.requests.filter((e) => BLOCK_KINDS.has(e.kind)).length;
        const onBanned = ids.filter((id) => gateway.exitFor(id).banned);
        expect(onBanned.length).toBeGreaterThan(0);
        expect(blocked).toBeGreaterThan(0);
        expect(blocked).toBeLessThanOrEqual(onBanned.length);
        for (const id of onBanned) expect(truth.gateway!.bySessionId[id], `requests through banned-exit id ${id}`).toBe(1);
    }, 60_000);
});
