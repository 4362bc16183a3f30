/**
 * Against the site's defenses, measured by what the site recorded: banned proxies are learned (and stock
 * CheerioCrawler with the same proxies does far worse in the same test), Retry-After is honoured, soft blocks
 * and challenges retire their sessions, and init + prepare earn location prices behind a CSRF check.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { SessionManager } from '@sessionpack/core';
import { CSRF_FIELD, CSRF_HEADER, type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { BLOCK_KINDS, blockedShareAfterWarmUp, memoryConfig, stockCrawler } from './helpers.js';

let pg: ProvingGround | undefined;
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});

const products = (ground: ProvingGround, n: number, path = '/product/') => Array.from({ length: n }, (_, i) => ground.urlFor(ground.siteHost, `${path}${i + 1}`));

async function crawlWithSessions(ground: ProvingGround, urls: string[], options: Parameters<typeof SessionManager.open>[0] = {}, crawlerOptions: Record<string, unknown> = {}) {
    const manager = await SessionManager.open({ proxyUrls: [...ground.proxyUrls], store: false, statsIntervalSecs: 0, config: memoryConfig(), ...options });
    const handled: { url: string; body: string; sessionId: string }[] = [];
    const failed: { url: string; error: string }[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 10,
                requestHandler: async ({ request, body, session }) => void handled.push({ url: request.url, body: String(body), sessionId: session!.id }),
                failedRequestHandler: async ({ request }, error) => void failed.push({ url: request.url, error: error.message }),
                ...crawlerOptions,
            },
            manager,
        ),
        memoryConfig(),
    );
    await crawler.run(urls);
    const stats = manager.stats();
    await manager.close();
    return { handled, failed, stats };
}

describe('defenses', () => {
    it('learns banned proxies: after warm-up few blocks, far below stock CheerioCrawler with the same proxies', async () => {
        pg = await startProvingGround({ scenario: 'banned-proxies', seed: 11, site: { categories: 10, productsPerCategory: 30 } });
        const urls = products(pg, 300);

        const ours = await crawlWithSessions(pg, urls, { pool: { size: 10 } });
        const oursShare = blockedShareAfterWarmUp(pg.stats().requests);
        const oursPages = pg.stats().totals.pages;

        pg.reset();
        const stock = stockCrawler(pg.proxyUrls);
        await stock.crawler.run(urls);
        const stockShare = blockedShareAfterWarmUp(pg.stats().requests);

        console.log(`blocked share after warm-up: sessionpack ${oursShare.share.toFixed(3)} (${oursShare.blocked}/${oursShare.requests}), stock ${stockShare.share.toFixed(3)} (${stockShare.blocked}/${stockShare.requests})`);
        expect(oursPages).toBe(300);
        expect(ours.failed).toEqual([]);
        // No block page ever reached the user's handler.
        expect(ours.handled.filter((h) => /unusual traffic|captcha|Just a moment|Access denied/i.test(h.body))).toEqual([]);
        expect(oursShare.share).toBeLessThan(0.05);
        expect(stockShare.share).toBeGreaterThan(oursShare.share * 5);
    });

    it('honours Retry-After: no request from a cooling session, or through a paced IP, during its penalty', async () => {
        // Per-session limits with 4 sessions working in parallel; then per-IP limits too, one request at a time (with
        // several in flight, a request already sent through an IP can still land inside that IP's new penalty).
        const runs = [
            { site: { rateLimits: { perSession: { requests: 5, windowMs: 2_000, penaltyMs: 1_000 } } }, maxConcurrency: 4 },
            { scenario: 'rate-limits' as const, maxConcurrency: 1 },
        ];
        for (const { maxConcurrency, ...world } of runs) {
            pg = await startProvingGround({ seed: 5, proxies: { count: 4 }, ...world });
            const { handled, failed, stats } = await crawlWithSessions(pg, products(pg, 40), { pool: { size: 4 } }, { maxConcurrency });
            const truth = pg.stats().totals;
            expect(truth.rateLimited).toBeGreaterThan(0); // the limits really bit
            expect(truth.duringPenalty).toBe(0);
            expect(stats.totals.counters['use/rate-limited']).toBe(truth.rateLimited);
            expect(stats.totals.counters['session/retired']).toBe(0); // cooled down, not burnt
            expect(handled).toHaveLength(40);
            expect(failed).toEqual([]);
            await pg.close();
            pg = undefined;
        }
    });

    it('detects soft blocks, challenges and captchas and retires their sessions', async () => {
        // Blocks that arrive after a session earned its cookie, so the site can tell sessions apart: good IPs
        // that drift into bans (soft block or challenge page), then sessions past a usage cap (captcha).
        const worlds = [
            // One block page per world: the site deals a response per IP, and the few IPs a crawl of 20 pages drifts
            // into bans may all have been dealt the same one.
            { bans: { fraction: 0, response: ['soft-block'] as const }, drift: { banAfterRequests: 4 } },
            { bans: { fraction: 0, response: ['challenge'] as const }, drift: { banAfterRequests: 4 }, challengeStyle: 'datadome' as const },
            { usageCap: 3 },
        ];
        const kinds = new Set<string>();
        for (const site of worlds) {
            pg = await startProvingGround({ seed: 9, proxies: { count: 12 }, site: { ...site, bans: site.bans && { ...site.bans, response: [...site.bans.response] } } });
            const { handled, failed, stats } = await crawlWithSessions(pg, products(pg, 20), { pool: { size: 3 } }, { maxConcurrency: 3 });
            const log = pg.stats().requests;
            const blocked = log.filter((e) => BLOCK_KINDS.has(e.kind) && e.sid);
            for (const b of blocked) kinds.add(b.kind);
            // A session (site cookie) that got a block page was never used again.
            for (const b of blocked) {
                const later = log.filter((e) => e.sid === b.sid && e.t >= b.t && e !== b);
                expect(later, `session ${b.sid} used after a ${b.kind}`).toEqual([]);
            }
            expect(blocked.length).toBeGreaterThan(0);
            expect(stats.totals.counters['session/retired']).toBeGreaterThanOrEqual(blocked.length);
            expect(handled).toHaveLength(20);
            expect(handled.filter((h) => /unusual traffic|captcha|Just a moment|captcha-delivery/i.test(h.body))).toEqual([]);
            expect(failed).toEqual([]);
            await pg.close();
            pg = undefined;
        }
        expect([...kinds].sort()).toEqual(['captcha', 'challenge', 'soft-block']);
    });

    it('init + prepare: location chosen through the CSRF form gives location prices, and the API passes the CSRF check', async () => {
        pg = await startProvingGround({ scenario: 'sessions', seed: 2, proxies: { count: 4 } });
        const site = pg.siteUrl;
        const inits: string[] = [];
        const urls = [...products(pg, 20), ...products(pg, 10, '/api/products/')];
        const { handled, failed } = await crawlWithSessions(pg, urls, {
            pool: { size: 3 },
            rules: [
                {
                    match: `${site}/**`,
                    init: async ({ session, sendRequest }) => {
                        inits.push(session.id);
                        await sendRequest(`${site}/`); // landing page: the session cookie
                        const form = await sendRequest(`${site}/location`);
                        const token = new RegExp(`name="${CSRF_FIELD}" value="([^"]+)"`).exec(form.body)?.[1];
                        if (!token) throw new Error(`no CSRF token in the location form (status ${form.statusCode})`);
                        const chosen = await sendRequest({ url: `${site}/location`, method: 'POST', form: { [CSRF_FIELD]: token, location: 'DE' } });
                        if (chosen.statusCode >= 400) throw new Error(`location form answered ${chosen.statusCode}`);
                        session.userData.csrf = token;
                    },
                    prepare: ({ session, headers }) => {
                        headers[CSRF_HEADER] = String(session.userData.csrf);
                    },
                },
            ],
        });
        expect(failed).toEqual([]);
        expect(handled).toHaveLength(30);
        const log = pg.stats().requests;
        const pages = log.filter((e) => e.kind === 'page' && (e.path.startsWith('/product/') || e.path.startsWith('/api/')));
        expect(pages).toHaveLength(30);
        expect(pages.every((e) => e.location === 'DE')).toBe(true);
        expect(log.filter((e) => e.reason === 'csrf')).toEqual([]);
        expect(handled.filter((h) => h.url.includes('/product/')).every((h) => /data-location="DE"/.test(h.body))).toBe(true);
        expect(inits.length).toBeGreaterThan(0);
        expect(inits.length).toBeLessThanOrEqual(3 + 2); // sessions are warmed once and reused, not per request
    });
});
