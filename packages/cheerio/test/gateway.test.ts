/**
 * Through the proving ground's residential-style gateway (one URL, the exit IP chosen by a hash of the session id in the
 * username, some exits banned), judged by what the gateway and the site recorded: a session retired used up hands its
 * session id (its exit, known to serve) to the next session instead of drawing a new id, an id that was blocked is
 * never drawn again, and after a new id's first request was refused the next new id waits (a hold that doubles while
 * new ids keep being refused), as it does for a 429's Retry-After.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { ProxyConfiguration } from '@crawlee/core';
import { SessionManager } from '@sessionpack/core';
import { type GroundTruth, type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { BLOCK_KINDS, memoryConfig } from './helpers.js';

let pg: ProvingGround | undefined;

/** A seeded random stream (mulberry32): the session ids, so the exits they hash to, are the same every run. */
function seededRandom(seed: number): () => number {
    let state = seed;
    return () => {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
/**
 * Crawls `pages` product pages through the gateway with a content check (no price: retire the session and retry), and
 * returns the requests that failed after their retries.
 */
async function crawlThroughGateway(ground: ProvingGround, pages: number, maxConcurrency: number, options: { seed: number; pool?: { maxUses: number } }): Promise<string[]> {
    const gateway = ground.gateway!;
    const urls = Array.from({ length: pages }, (_, i) => ground.urlFor(ground.siteHost, `/product/${i + 1}`));
    const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (sessionId) => gateway.urlFor(String(sessionId)) });
    const manager = await SessionManager.open({
        proxyConfiguration,
        ...(options.pool ? { pool: options.pool } : {}),
        store: false,
        statsIntervalSecs: 0,
        random: seededRandom(options.seed),
        config: memoryConfig(),
    });
    const failed: string[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency,
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
    return failed;
}

/** The first request of each visitor the site saw: a request without its cookie (a refused one gets none; a served one a new one). */
function newVisitors(truth: GroundTruth): GroundTruth['requests'] {
    const seen = new Set<string>();
    return truth.requests.filter((e) => {
        if (e.sid !== undefined && seen.has(e.sid)) return false;
        if (e.sid !== undefined) seen.add(e.sid);
        return true;
    });
}

afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

describe('through a residential-style gateway', () => {
    it('reuses the exit of a used-up session for the next one; a blocked session id is never used again', async () => {
        pg = await startProvingGround({ seed: 7, proxies: { count: 1 }, gateway: { exits: 8, bannedFraction: 0.25 }, site: { categories: 4, productsPerCategory: 20 } });
        const ground = pg;
        const gateway = ground.gateway!;
        const failed = await crawlThroughGateway(ground, 80, 3, { seed: 1, pool: { maxUses: 5 } });

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

    it('after a new session id was refused at its first request, the next new id waits, longer while they keep being refused', async () => {
        // Half the exits banned for the whole crawl, one request at a time.
        pg = await startProvingGround({ seed: 11, proxies: { count: 1 }, gateway: { exits: 6, bannedFraction: 0.5 }, site: { categories: 2, productsPerCategory: 15 } });
        const ground = pg;
        const gateway = ground.gateway!;
        const failed = await crawlThroughGateway(ground, 24, 1, { seed: 3 });

        const truth = ground.stats();
        expect(failed).toEqual([]);
        expect(new Set(truth.requests.filter((e) => e.kind === 'page').map((e) => e.path)).size).toBe(24);
        // One request at a time and no session used up: a new visitor at the site (a request without its cookie;
        // refused ones get none) is a new session id, drawn after the previous one was refused (or at the start).
        const firsts = newVisitors(truth);
        const ids = Object.keys(truth.gateway!.bySessionId);
        expect(firsts.length).toBe(ids.length);
        const onBanned = ids.filter((id) => gateway.exitFor(id).banned);
        // The seed makes the first three ids land on banned exits.
        expect(onBanned.length, 'new ids that landed on banned exits').toBeGreaterThanOrEqual(3);
        // After the k-th refused first request in a row the next new id waits at least 500 x 2^(k-1) ms.
        let inRow = 0;
        for (let i = 0; i + 1 < firsts.length; i++) {
            const e = firsts[i]!;
            expect(BLOCK_KINDS.has(e.kind), `new visitor ${i} (${e.kind}) is followed by another: it was refused`).toBe(true);
            inRow++;
            const gap = firsts[i + 1]!.t - e.t;
            expect(gap, `gap after the refused first request #${inRow} in a row`).toBeGreaterThanOrEqual(500 * 2 ** (inRow - 1));
        }
        expect(BLOCK_KINDS.has(firsts.at(-1)!.kind)).toBe(false);
        // Each id on a banned exit was refused once and never used again.
        for (const id of onBanned) expect(truth.gateway!.bySessionId[id], `requests through banned-exit id ${id}`).toBe(1);
    }, 60_000);

    it("after a 429 through the gateway no new session id is drawn before its Retry-After", async () => {
        // No bans; 3 requests per second per exit, then 429 + Retry-After 1 s. One request at a time.
        pg = await startProvingGround({
            seed: 4,
            proxies: { count: 1 },
            gateway: { exits: 4 },
            site: { categories: 2, productsPerCategory: 10, rateLimits: { perIp: { requests: 3, windowMs: 1_000, penaltyMs: 1_000 } } },
        });
        const ground = pg;
        const failed = await crawlThroughGateway(ground, 16, 1, { seed: 2 });

        const truth = ground.stats();
        expect(failed).toEqual([]);
        expect(new Set(truth.requests.filter((e) => e.kind === 'page').map((e) => e.path)).size).toBe(16);
        const limited = truth.requests.filter((e) => e.kind === 'rate-limited');
        expect(limited.length).toBeGreaterThan(0);
        const firsts = newVisitors(truth);
        expect(firsts.length, 'new visitors').toBeGreaterThan(1);
        for (const l of limited) {
            const early = firsts.filter((f) => f.t > l.t && f.t < l.t + 1000);
            expect(early.map((f) => f.t - l.t), `new visitors within 1 s of the 429 at ${l.t - truth.requests[0]!.t} ms`).toEqual([]);
        }
    }, 60_000);
});
