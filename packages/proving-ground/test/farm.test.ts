import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NON_LOOPBACK_STATUS, startProvingGround, type ProvingGround } from '../src/index.js';
import { request } from './helpers/client.js';

describe('proxy farm', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ seed: 3, proxies: { count: 12, subnetSize: 4, dead: { refuse: 2, tunnelError: 2, status: 597 } } });
    });
    afterAll(() => pg.close());

    it('assigns each proxy its own loopback source address, grouped into subnets', () => {
        expect(pg.proxies).toHaveLength(12);
        expect(pg.proxyUrls).toEqual(pg.proxies.map((p) => p.url));
        expect(pg.proxies.map((p) => p.ip)).toEqual([
            '127.0.1.11', '127.0.1.12', '127.0.1.13', '127.0.1.14',
            '127.0.2.11', '127.0.2.12', '127.0.2.13', '127.0.2.14',
            '127.0.3.11', '127.0.3.12', '127.0.3.13', '127.0.3.14',
        ]);
        expect(new Set(pg.proxies.map((p) => p.subnet))).toEqual(new Set(['127.0.1', '127.0.2', '127.0.3']));
        for (const p of pg.proxies) expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(new Set(pg.proxies.map((p) => p.port)).size).toBe(12);
        expect(pg.siteUrl).toBe(`http://shop.test:${pg.port}`);
        expect(pg.directUrl).toBeUndefined();
    });

    it('the site sees the source address of the proxy used, forwarded or tunnelled', async () => {
        pg.reset();
        const alive = pg.proxies.filter((p) => !p.dead);
        for (const [i, p] of alive.entries()) {
            const res = await request(`${pg.siteUrl}/`, p.url, { tunnel: i % 2 === 1 });
            expect(res.status).toBe(200);
            expect(res.body).toContain('Welcome to shop.test');
        }
        const stats = pg.stats();
        expect(Object.keys(stats.byIp).sort()).toEqual(alive.map((p) => p.ip).sort());
        for (const p of alive) {
            expect(stats.byIp[p.ip]!.pages).toBe(1);
            expect(stats.byProxy[p.index]).toMatchObject({ requests: 1, refused: 0, authFailures: 0 });
            expect(stats.byProxy[p.index]!.connections).toBeGreaterThanOrEqual(1);
        }
        expect(stats.requests.map((e) => e.proxy).sort((a, b) => a! - b!)).toEqual(alive.map((p) => p.index));
    });

    it('picks dead proxies by seed: refusing ones refuse, tunnel-error ones answer with the error status', async () => {
        const refusing = pg.proxies.filter((p) => p.dead === 'refuse');
        const failing = pg.proxies.filter((p) => p.dead === 'tunnel-error');
        expect(refusing).toHaveLength(2);
        expect(failing).toHaveLength(2);
        for (const p of refusing) {
            await expect(request(`${pg.siteUrl}/`, p.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        }
        pg.reset();
        for (const p of failing) {
            expect((await request(`${pg.siteUrl}/`, p.url)).status).toBe(597);
            expect((await request(`${pg.siteUrl}/`, p.url, { tunnel: true })).status).toBe(597);
            expect(pg.stats().byProxy[p.index]).toMatchObject({ requests: 2, refused: 2 });
        }
        expect(pg.stats().totals.requests).toBe(0);
    });

    it('the same seed gives the same dead proxies; another seed other ones', async () => {
        const again = await startProvingGround({ seed: 3, proxies: { count: 12, subnetSize: 4, dead: { refuse: 2, tunnelError: 2 } } });
        const other = await startProvingGround({ seed: 4, proxies: { count: 12, subnetSize: 4, dead: { refuse: 2, tunnelError: 2 } } });
        try {
            const dead = (g: ProvingGround) => g.proxies.map((p) => p.dead ?? '-');
            expect(dead(again)).toEqual(dead(pg));
            expect(dead(other)).not.toEqual(dead(pg));
        } finally {
            await Promise.all([again.close(), other.close()]);
        }
    });

    it('refuses every target outside loopback without connecting, and resolves any *.test name', async () => {
        const p = pg.proxies.find((x) => !x.dead)!;
        pg.reset();
        for (const target of ['http://example.com/', 'http://10.0.0.1/', 'http://192.168.1.1:8080/']) {
            expect((await request(target, p.url)).status).toBe(NON_LOOPBACK_STATUS);
            expect((await request(target, p.url, { tunnel: true })).status).toBe(NON_LOOPBACK_STATUS);
        }
        expect(pg.stats().byProxy[p.index]).toMatchObject({ refused: 6 });
        const news = await request(pg.urlFor('news.test', '/category/1'), p.url);
        expect(news.status).toBe(200);
        const direct = await request(`http://127.0.0.1:${pg.port}/`, p.url);
        expect(direct.status).toBe(200);
        expect(Object.keys(pg.stats().byHost).sort()).toEqual(['127.0.0.1', 'news.test']);
        expect(() => pg.urlFor('example.com')).toThrow(/\*\.test/);
    });

    it('drops connections that do not come from a farm proxy unless exposeDirect is set', async () => {
        await expect(request(`http://127.0.0.1:${pg.port}/`, undefined, { headers: { host: `shop.test:${pg.port}` } })).rejects.toThrow(
            /socket hang up|ECONNRESET/,
        );
        const open = await startProvingGround({ proxies: { count: 1 }, exposeDirect: true });
        try {
            expect(open.directUrl).toBe(`http://127.0.0.1:${open.port}`);
            const res = await request(`${open.directUrl}/product/3`, undefined);
            expect(res.status).toBe(200);
            expect(open.stats().requests[0]).toMatchObject({ ip: '127.0.0.1', host: '127.0.0.1', kind: 'page' });
            expect(open.stats().requests[0]!.proxy).toBeUndefined();
        } finally {
            await open.close();
        }
    });
});

describe('proxy auth', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ proxies: { count: 2, auth: { username: 'bob', password: 's3cr:t@' } } });
    });
    afterAll(() => pg.close());

    it('puts the credentials into the proxy URLs and accepts them', async () => {
        expect(pg.proxyUrls[0]).toMatch(/^http:\/\/bob:s3cr%3At%40@127\.0\.0\.1:\d+$/);
        expect((await request(`${pg.siteUrl}/`, pg.proxyUrls[0])).status).toBe(200);
        expect((await request(`${pg.siteUrl}/`, pg.proxyUrls[1], { tunnel: true })).status).toBe(200);
    });

    it('answers 407 without or with wrong credentials, and counts it', async () => {
        pg.reset();
        const bare = `http://127.0.0.1:${pg.proxies[0]!.port}`;
        const wrong = `http://bob:nope@127.0.0.1:${pg.proxies[0]!.port}`;
        const res = await request(`${pg.siteUrl}/`, bare);
        expect(res.status).toBe(407);
        expect(res.headers['proxy-authenticate']).toMatch(/Basic/);
        expect((await request(`${pg.siteUrl}/`, wrong, { tunnel: true })).status).toBe(407);
        expect(pg.stats().byProxy['0']).toMatchObject({ requests: 2, authFailures: 2 });
        expect(pg.stats().totals.requests).toBe(0);
    });
});
