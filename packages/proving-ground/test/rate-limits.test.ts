import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, startProvingGround, type ProvingGround } from '../src/index.js';
import { Client, request } from './helpers/client.js';
import { TestClock } from './helpers/clock.js';

describe('rate limits', () => {
    let pg: ProvingGround;
    // The site's windows and penalties go by this clock: the tests move it instead of sleeping.
    const clock = new TestClock();

    beforeAll(async () => {
        pg = await startProvingGround({
            clock,
            proxies: { count: 3 },
            site: {
                rateLimits: {
                    perIp: { requests: 10, windowMs: 10_000, penaltyMs: 400 },
                    perSession: { requests: 3, windowMs: 10_000, penaltyMs: 400 },
                },
            },
        });
    });
    afterAll(() => pg.close());

    it('limits each IP: past the limit 429 with Retry-After, whatever the session', async () => {
        pg.reset();
        const ip = pg.proxies[0]!;
        const statuses: number[] = [];
        // A fresh cookie-less request each time: only the IP limit applies.
        for (let i = 0; i < 12; i++) statuses.push((await request(`${pg.siteUrl}/`, ip.url)).status);
        expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
        const res = await request(`${pg.siteUrl}/`, ip.url);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toContain('Too Many Requests');
        // Other IPs are not affected.
        expect((await request(`${pg.siteUrl}/`, pg.proxies[1]!.url)).status).toBe(200);
        const stats = pg.stats();
        expect(stats.byIp[ip.ip]).toMatchObject({ requests: 13, pages: 10, rateLimited: 3, duringPenalty: 2 });
        expect(stats.requests.every((e) => e.t === clock.now())).toBe(true); // the log reads the injected clock too
        expect(stats.requests.filter((e) => e.status === 429).map((e) => [e.reason, e.duringPenalty ?? false])).toEqual([
            ['rate-limit-ip', false],
            ['rate-limit-ip', true],
            ['rate-limit-ip', true],
        ]);
    });

    it('requests that ignore Retry-After extend the penalty; waiting it out works', async () => {
        pg.reset();
        const ip = pg.proxies[2]!;
        for (let i = 0; i < 11; i++) await request(`${pg.siteUrl}/`, ip.url);
        // Keep knocking every 399 ms: each knock restarts the 400 ms penalty, so it never ends (4 x 399 ms > 400 ms).
        for (let i = 0; i < 4; i++) {
            clock.advance(399);
            expect((await request(`${pg.siteUrl}/`, ip.url)).status).toBe(429);
        }
        clock.advance(400);
        expect((await request(`${pg.siteUrl}/`, ip.url)).status).toBe(200);
        expect(pg.stats().byIp[ip.ip]).toMatchObject({ rateLimited: 5, duringPenalty: 4, pages: 11 });
    });

    it('limits each session cookie separately from its IP', async () => {
        pg.reset();
        const a = new Client(pg.proxyUrls[1]);
        const b = new Client(pg.proxyUrls[1]);
        const statusesA: number[] = [];
        for (let i = 0; i < 4; i++) statusesA.push((await a.get(`${pg.siteUrl}/product/${i + 1}`)).status);
        expect(statusesA).toEqual([200, 200, 200, 429]);
        expect((await b.get(`${pg.siteUrl}/`)).status).toBe(200);
        expect((await a.get(`${pg.siteUrl}/`)).status).toBe(429);
        const sid = a.cookie('shop.test', SESSION_COOKIE)!;
        const stats = pg.stats();
        expect(stats.bySession[sid]).toMatchObject({ requests: 5, pages: 3, rateLimited: 2, duringPenalty: 1 });
        expect(stats.requests.filter((e) => e.status === 429).every((e) => e.reason === 'rate-limit-session' && e.sid === sid)).toBe(true);
        clock.advance(399);
        expect((await a.get(`${pg.siteUrl}/`)).status).toBe(429);
        clock.advance(400);
        expect((await a.get(`${pg.siteUrl}/`)).status).toBe(200);
    });
});

describe('usage caps', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ proxies: { count: 1 }, site: { usageCap: 3 } });
    });
    afterAll(() => pg.close());

    it('after N pages a session only gets a captcha page; a new session starts over', async () => {
        const c = new Client(pg.proxyUrls[0]);
        const kinds: string[] = [];
        for (let i = 0; i < 5; i++) {
            const res = await c.get(`${pg.siteUrl}/product/${i + 1}`);
            expect(res.status).toBe(200);
            kinds.push(res.body.includes('g-recaptcha') ? 'captcha' : 'page');
        }
        expect(kinds).toEqual(['page', 'page', 'page', 'captcha', 'captcha']);
        const sid = c.cookie('shop.test', SESSION_COOKIE)!;
        expect(pg.stats().bySession[sid]).toMatchObject({ pages: 3, captchas: 2 });
        expect(pg.stats().requests.filter((e) => e.kind === 'captcha').every((e) => e.reason === 'usage-cap')).toBe(true);
        c.clearCookies();
        expect((await c.get(`${pg.siteUrl}/product/9`)).body).toContain('class="price"');
    });
});
