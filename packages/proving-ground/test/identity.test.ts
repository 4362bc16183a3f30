import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEACON_PATH, SESSION_COOKIE, startProvingGround, type ProvingGround } from '../src/index.js';
import { Client } from './helpers/client.js';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';

describe('identity consistency', () => {
    let watching: ProvingGround;
    let blocking: ProvingGround;

    beforeAll(async () => {
        [watching, blocking] = await Promise.all([
            startProvingGround({ proxies: { count: 1 } }),
            startProvingGround({ proxies: { count: 1 }, site: { identity: { block: true, response: 'soft-block' } } }),
        ]);
    });
    afterAll(() => Promise.all([watching.close(), blocking.close()]));

    it('counts a session whose header user agent changes, without blocking by default', async () => {
        const c = new Client(watching.proxyUrls[0], CHROME);
        await c.get(`${watching.siteUrl}/`);
        const changed = await c.get(`${watching.siteUrl}/product/1`, { 'user-agent': FIREFOX });
        expect(changed.body).toContain('class="price"');
        await c.get(`${watching.siteUrl}/product/2`, { 'user-agent': FIREFOX });
        const sid = c.cookie('shop.test', SESSION_COOKIE)!;
        const stats = watching.stats();
        expect(stats.bySession[sid]).toMatchObject({ requests: 3, pages: 3, uaMismatches: 1, userAgents: [CHROME, FIREFOX] });
        expect(stats.requests.filter((e) => e.uaMismatch).map((e) => e.path)).toEqual(['/product/1']);
        expect(stats.byIp['127.0.1.11']!.userAgents).toEqual([CHROME, FIREFOX]);
    });

    it('counts a beacon whose navigator.userAgent differs from the header user agent', async () => {
        watching.reset();
        const c = new Client(watching.proxyUrls[0], CHROME);
        await c.get(`${watching.siteUrl}/`);
        await c.post(`${watching.siteUrl}${BEACON_PATH}`, JSON.stringify({ ua: CHROME }), { 'content-type': 'text/plain;charset=UTF-8' });
        await c.post(`${watching.siteUrl}${BEACON_PATH}`, JSON.stringify({ ua: 'Mozilla/5.0 HeadlessChrome/130' }), { 'content-type': 'text/plain;charset=UTF-8' });
        const stats = watching.stats();
        expect(stats.totals).toMatchObject({ requests: 1, beacons: 2, uaMismatches: 1 });
        const beacons = stats.requests.filter((e) => e.kind === 'beacon');
        expect(beacons.map((e) => [e.status, e.uaMismatch ?? false])).toEqual([[204, false], [204, true]]);
        expect(beacons[1]!.sid).toBe(c.cookie('shop.test', SESSION_COOKIE));
    });

    it('blocks flagged sessions when identity.block is on, with the configured response', async () => {
        const honest = new Client(blocking.proxyUrls[0], CHROME);
        const liar = new Client(blocking.proxyUrls[0], CHROME);
        const caught = new Client(blocking.proxyUrls[0], CHROME);
        for (const c of [honest, liar, caught]) expect((await c.get(`${blocking.siteUrl}/`)).body).toContain('Welcome');
        await liar.get(`${blocking.siteUrl}/product/1`, { 'user-agent': FIREFOX });
        await caught.post(`${blocking.siteUrl}${BEACON_PATH}`, JSON.stringify({ ua: FIREFOX }));
        const results = await Promise.all([honest, liar, caught].map((c) => c.get(`${blocking.siteUrl}/product/3`)));
        expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
        expect(results[0]!.body).toContain('class="price"');
        expect(results[1]!.body).toContain('unusual traffic');
        expect(results[2]!.body).toContain('unusual traffic');
        const stats = blocking.stats();
        expect(stats.totals.softBlocks).toBe(3); // the liar's switching request itself, then both next requests
        expect(stats.requests.filter((e) => e.kind === 'soft-block').every((e) => e.reason === 'identity')).toBe(true);
    });
});
