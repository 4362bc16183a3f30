import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, scenarios, startProvingGround, type ProvingGround } from '../src/index.js';
import { Client, request } from './helpers/client.js';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

describe('realistic scenario', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ scenario: 'realistic', seed: 1 });
    });
    afterAll(() => pg.close());

    it('has 40 proxies, ~60% banned with one whole subnet, 4 dead, 1000+ pages', () => {
        expect(pg.proxies).toHaveLength(40);
        const banned = pg.proxies.filter((p) => p.banned);
        expect(banned).toHaveLength(24);
        const subnets = [...new Set(pg.proxies.map((p) => p.subnet))];
        expect(subnets.some((s) => pg.proxies.filter((p) => p.subnet === s).every((p) => p.banned))).toBe(true);
        expect(pg.proxies.filter((p) => p.dead)).toHaveLength(4);
        expect(pg.proxies.filter((p) => !p.dead && !p.banned).length).toBeGreaterThanOrEqual(10);
        const { categories, productsPerCategory } = pg.options.site;
        expect(categories * productsPerCategory + categories + 1).toBeGreaterThan(1000);
    });

    it('is the same for the same seed', async () => {
        const again = await startProvingGround({ scenario: scenarios.realistic, seed: 1 });
        try {
            const truth = (g: ProvingGround) => g.proxies.map((p) => [p.ip, p.banned, p.dead ?? null]);
            expect(truth(again)).toEqual(truth(pg));
        } finally {
            await again.close();
        }
    });

    it('lets a well-behaved session through a good proxy: landing, location + CSRF, pages, API', async () => {
        pg.reset();
        const proxy = pg.proxies.find((p) => !p.dead && !p.banned)!;
        const c = new Client(proxy.url, CHROME);
        expect((await c.get(`${pg.siteUrl}/`)).body).toContain('id="landing"');
        const form = await c.get(`${pg.siteUrl}/location`);
        const token = form.body.match(/name="_csrf" value="([0-9a-f]+)"/)![1]!;
        expect((await c.post(`${pg.siteUrl}/location`, `location=GB&_csrf=${token}`)).status).toBe(200);
        for (let id = 1; id <= 5; id++) {
            const res = await c.get(`${pg.siteUrl}/product/${id}`);
            expect(res.body).toContain('data-location="GB"');
        }
        const api = await c.get(`${pg.siteUrl}/api/products/9`, { [CSRF_HEADER]: token });
        expect(JSON.parse(api.body).price.currency).toBe('GBP');
        const totals = pg.stats().totals;
        expect(totals).toMatchObject({ requests: 9, pages: 8, landings: 1, forbidden: 0, rateLimited: 0 });
    });

    it('fights back: banned proxies, dead proxies and bot user agents', async () => {
        pg.reset();
        const bannedProxy = pg.proxies.find((p) => p.banned && !p.dead)!;
        const res = await new Client(bannedProxy.url, CHROME).get(`${pg.siteUrl}/`);
        // Whichever block page the seed picked for it, the site refused it for its IP and served no page.
        expect(res.body).not.toContain('id="landing"');
        expect(pg.stats().requests.map((e) => [e.ip, e.reason, e.kind === 'page' || e.kind === 'landing'])).toEqual([[bannedProxy.ip, 'ip-ban', false]]);
        const good = pg.proxies.find((p) => !p.dead && !p.banned)!;
        expect((await new Client(good.url, 'python-requests/2.31').get(`${pg.siteUrl}/`)).status).toBe(403);
        const failing = pg.proxies.find((p) => p.dead === 'tunnel-error')!;
        expect((await new Client(failing.url, CHROME).get(`${pg.siteUrl}/`)).status).toBe(599);
        const refusing = pg.proxies.find((p) => p.dead === 'refuse')!;
        await expect(new Client(refusing.url, CHROME).get(`${pg.siteUrl}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        const stats = pg.stats();
        expect(stats.totals.requests).toBe(2);
        expect(stats.totals.challenges).toBeGreaterThanOrEqual(1);
    });
});

describe('hard scenario', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ scenario: 'hard', seed: 1 });
    });
    afterAll(() => pg.close());

    it('bans a whole subnet and more, and a quarter of the gateway exits', () => {
        expect(pg.proxies).toHaveLength(40);
        expect(pg.proxies.filter((p) => p.banned)).toHaveLength(16);
        const subnets = [...new Set(pg.proxies.map((p) => p.subnet))];
        expect(subnets.filter((s) => pg.proxies.filter((p) => p.subnet === s).every((p) => p.banned))).toHaveLength(1);
        expect(pg.gateway!.exits).toHaveLength(20);
        expect(pg.gateway!.exits.filter((e) => e.banned)).toHaveLength(5);
    });

    it('limits each IP to 3 requests per second with Retry-After, and burns an IP after ~40 requests', async () => {
        pg.reset();
        const proxy = pg.proxies.find((p) => !p.banned)!;
        const kinds: string[] = [];
        let retryAfter: string | string[] | undefined;
        const get = (i: number) => request(`${pg.siteUrl}/product/${i + 1}`, proxy.url, { headers: { 'user-agent': CHROME } });
        // The first four at once, so they fall into one 1 s window however loaded the machine is.
        const burst = await Promise.all([0, 1, 2, 3].map(get));
        expect(burst.map((r) => r.status).sort()).toEqual([200, 200, 200, 429]);
        retryAfter = burst.find((r) => r.status === 429)!.headers['retry-after'];
        for (let i = 4; i < 60; i++) await get(i);
        for (const e of pg.stats().requests) kinds.push(e.kind);
        expect(kinds.slice(0, 4).sort()).toEqual(['page', 'page', 'page', 'rate-limited']);
        expect(retryAfter).toBe('2');
        const firstBan = pg.stats().requests.findIndex((e) => e.reason === 'ip-ban');
        expect(firstBan).toBeGreaterThanOrEqual(30);
        expect(firstBan).toBeLessThanOrEqual(50);
        expect(pg.proxies[proxy.index]!.banned).toBe(true);
    });

    it('gives a session cookie 25 pages, then only captchas', async () => {
        pg.reset();
        const good = pg.proxies.filter((p) => !p.banned);
        const first = await request(`${pg.siteUrl}/`, good[0]!.url, { headers: { 'user-agent': CHROME } });
        const cookie = String(first.headers['set-cookie']).split(';')[0]!;
        // Spread over many IPs so the per-IP limit (3/s) does not interfere: 2 more pages on the first, 3 on the others.
        let sent = 1;
        for (const p of good) {
            for (let k = p === good[0] ? 1 : 0; k < 3 && sent < 26; k++, sent++) {
                await request(`${pg.siteUrl}/product/${sent}`, p.url, { headers: { 'user-agent': CHROME, cookie } });
            }
        }
        const log = pg.stats().requests;
        expect(log).toHaveLength(26);
        expect(log.slice(0, 25).every((e) => e.kind === 'page')).toBe(true);
        expect(log[25]).toMatchObject({ kind: 'captcha', reason: 'usage-cap' });
    });
});

describe('benign scenario', () => {
    it('has no defenses', async () => {
        const pg = await startProvingGround({ scenario: 'benign' });
        try {
            expect(pg.proxies.some((p) => p.banned || p.dead)).toBe(false);
            const c = new Client(pg.proxyUrls[0], '');
            for (let i = 0; i < 30; i++) expect((await c.get(`${pg.siteUrl}/product/${(i % 50) + 1}`)).body).toContain('class="price"');
        } finally {
            await pg.close();
        }
    });
});
