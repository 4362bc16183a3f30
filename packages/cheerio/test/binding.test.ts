/**
 * The path of one request, checked on the proxies' and the site's side: each attempt leaves through its
 * session's proxy with that session's user agent and cookies, pools per site stay apart, and the user's own
 * hooks and handlers keep working around ours.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { SessionManager } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withSessions } from '../src/index.js';
import { memoryConfig } from './helpers.js';

let pg: ProvingGround;

beforeAll(async () => {
    pg = await startProvingGround({ seed: 3, proxies: { count: 6 }, site: { categories: 4, productsPerCategory: 10 } });
});
afterAll(async () => pg?.close());
beforeEach(() => pg.reset());

const products = (host: string, n: number) => Array.from({ length: n }, (_, i) => pg.urlFor(host, `/product/${i + 1}`));

describe('withSessions(CheerioCrawler)', () => {
    it('sends each attempt through its session’s proxy with one user agent and one cookie per session', async () => {
        const manager = await SessionManager.open({ proxyUrls: [...pg.proxyUrls], pool: { size: 4 }, store: false, statsIntervalSecs: 0, config: memoryConfig() });
        const seen: { path: string; sessionId: string; proxyIp: string; userAgent: string; proxyInfoUrl?: string }[] = [];
        const order = new Map<string, string[]>();
        const note = (url: string, step: string) => void order.set(url, [...(order.get(url) ?? []), step]);
        const crawler = new CheerioCrawler(
            withSessions(
                {
                    maxConcurrency: 4,
                    preNavigationHooks: [({ request, session }) => void note(request.url, `user-pre:${session ? 'session' : 'none'}`)],
                    postNavigationHooks: [({ request }) => void note(request.url, 'user-post')],
                    requestHandler: async ({ request, session, proxyInfo }) => {
                        note(request.url, 'handler');
                        const s = session as unknown as { id: string; identity: { userAgent: string; proxy?: { url: string } } };
                        const proxy = pg.proxies.find((p) => p.url === s.identity.proxy?.url)!;
                        seen.push({ path: new URL(request.url).pathname, sessionId: s.id, proxyIp: proxy.ip, userAgent: s.identity.userAgent, proxyInfoUrl: proxyInfo?.url });
                    },
                },
                manager,
            ),
            memoryConfig(),
        );
        await crawler.run(products('shop.test', 24));
        await manager.close();

        expect(seen).toHaveLength(24);
        for (const steps of order.values()) expect(steps).toEqual(['user-pre:session', 'user-post', 'handler']);
        expect(order.size).toBe(24);
        const log = pg.stats().requests.filter((e) => e.path.startsWith('/product/'));
        for (const mine of seen) {
            const theirs = log.filter((e) => e.path === mine.path && e.kind === 'page');
            expect(theirs).toHaveLength(1);
            // The site saw the request from the chosen session's proxy, with the chosen session's user agent.
            expect(theirs[0]!.ip).toBe(mine.proxyIp);
            expect(theirs[0]!.userAgent).toBe(mine.userAgent);
            expect(mine.proxyInfoUrl).toBe(pg.proxies.find((p) => p.ip === mine.proxyIp)!.url);
        }
        // Sessions were reused (pool of 4 for 24 pages) and each kept one IP, one UA and one site cookie.
        const bySession = new Map<string, { ips: Set<string>; uas: Set<string>; sids: Set<string | undefined> }>();
        for (const mine of seen) {
            const entry = log.find((e) => e.path === mine.path && e.kind === 'page')!;
            const b = bySession.get(mine.sessionId) ?? { ips: new Set(), uas: new Set(), sids: new Set() };
            b.ips.add(entry.ip);
            b.uas.add(entry.userAgent);
            b.sids.add(entry.sid);
            bySession.set(mine.sessionId, b);
        }
        expect(bySession.size).toBeLessThanOrEqual(4);
        for (const b of bySession.values()) {
            expect(b.ips.size).toBe(1);
            expect(b.uas.size).toBe(1);
            expect(b.sids.size).toBe(1);
        }
        // Each site cookie came back from exactly one IP: no cookie crossed sessions.
        const ipsPerSid = new Map<string, Set<string>>();
        for (const e of log) if (e.sid) ipsPerSid.set(e.sid, (ipsPerSid.get(e.sid) ?? new Set()).add(e.ip));
        for (const ips of ipsPerSid.values()) expect(ips.size).toBe(1);
    });

    it('keeps one pool per site: two sites never share a session or a cookie', async () => {
        const manager = await SessionManager.open({ proxyUrls: [...pg.proxyUrls], pool: { size: 3 }, store: false, statsIntervalSecs: 0, config: memoryConfig() });
        const sessionsByHost = new Map<string, Set<string>>();
        const crawler = new CheerioCrawler(
            withSessions(
                {
                    maxConcurrency: 4,
                    requestHandler: async ({ request, session }) => {
                        const host = new URL(request.url).hostname;
                        sessionsByHost.set(host, (sessionsByHost.get(host) ?? new Set()).add(session!.id));
                    },
                },
                manager,
            ),
            memoryConfig(),
        );
        await crawler.run([...products('shop.test', 15), ...products('news.test', 15)]);
        const stats = manager.stats();
        await manager.close();

        const shop = sessionsByHost.get('shop.test')!;
        const news = sessionsByHost.get('news.test')!;
        expect(shop.size).toBeGreaterThan(0);
        expect(news.size).toBeGreaterThan(0);
        expect([...shop].filter((id) => news.has(id))).toEqual([]);
        expect(Object.keys(stats.pools).sort()).toEqual(['news.test', 'shop.test']);
        // On the site's side: a cookie issued by one host is never presented to the other.
        const log = pg.stats().requests;
        const sidsOf = (host: string) => new Set(log.filter((e) => e.host === host && e.sid).map((e) => e.sid));
        const shopSids = sidsOf('shop.test');
        const newsSids = sidsOf('news.test');
        expect(shopSids.size).toBeGreaterThan(0);
        expect(newsSids.size).toBeGreaterThan(0);
        expect([...shopSids].filter((sid) => newsSids.has(sid))).toEqual([]);
        expect(pg.stats().byHost['news.test']!.pages).toBe(15);
        expect(pg.stats().byHost['shop.test']!.pages).toBe(15);
    });

    it('opens its own manager from options and rejects a wrong option at construction, naming it', () => {
        expect(() => withSessions({ requestHandler: async () => {} }, { pool: { size: -1 } })).toThrow(/size/);
        // Options that used to pass and then fail every request, or never match.
        expect(() => withSessions({ requestHandler: async () => {} }, { proxyUrls: [] })).toThrow(/`proxyUrls` is empty/);
        expect(() => withSessions({ requestHandler: async () => {} }, { headerGeneratorOptions: { browsers: [{ name: 'chrome', minVersion: 9999 }] } })).toThrow(
            /`headerGeneratorOptions`/,
        );
        expect(() => withSessions({ requestHandler: async () => {} }, { rules: [{ match: 'http://a.test/**' }, { match: '127.0.0.1/**' }] })).toThrow(
            /`rules\[1\]\.match` is '127\.0\.0\.1\/\*\*', which never matches/,
        );
        // @ts-expect-error sessionpack owns useSessionPool: the type leaves it out, and plain JS gets an error naming it.
        expect(() => withSessions({ requestHandler: async () => {}, useSessionPool: true }, {})).toThrow(/useSessionPool/);
    });
});
