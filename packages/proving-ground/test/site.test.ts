import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEACON_PATH, CSRF_HEADER, JS_RENDERED_TEXT, SESSION_COOKIE, startProvingGround, type ProvingGround } from '../src/index.js';
import { Client } from './helpers/client.js';

const links = (html: string, cls: string) => [...html.matchAll(new RegExp(`class="${cls}" href="([^"]+)"`, 'g'))].map((m) => m[1]!);

describe('the shop (no defenses)', () => {
    let pg: ProvingGround;
    let client: Client;

    beforeAll(async () => {
        pg = await startProvingGround({ proxies: { count: 2 }, site: { categories: 20, productsPerCategory: 50 } });
        client = new Client(pg.proxyUrls[0]);
    });
    afterAll(() => pg.close());

    it('links home -> categories -> products: 1000+ distinct pages to crawl', async () => {
        const home = await client.get(`${pg.siteUrl}/`);
        expect(home.status).toBe(200);
        expect(home.headers['content-type']).toMatch(/text\/html/);
        const categories = links(home.body, 'category');
        expect(categories).toHaveLength(20);
        const category = await client.get(`${pg.siteUrl}${categories[19]}`);
        const products = links(category.body, 'product');
        expect(products).toHaveLength(50);
        expect(products.at(-1)).toBe('/product/1000');
        const product = await client.get(`${pg.siteUrl}/product/1000`);
        expect(product.status).toBe(200);
        expect(product.body).toMatch(/<span class="price" data-location="US" data-currency="USD">\d+\.\d\d<\/span>/);
        expect(links(product.body, 'product').length).toBeGreaterThan(0);
        expect((await client.get(`${pg.siteUrl}/product/1001`)).status).toBe(404);
        expect((await client.get(`${pg.siteUrl}/category/21`)).status).toBe(404);
        expect(pg.stats().byHost['shop.test']).toMatchObject({ pages: 3, notFound: 2 });
    });

    it('serves a JSON API', async () => {
        const res = await client.get(`${pg.siteUrl}/api/products/7`);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        expect(JSON.parse(res.body)).toMatchObject({ id: 7, category: 1, price: { location: 'US', currency: 'USD' } });
    });

    it('has a page whose content exists only after its script runs', async () => {
        const res = await client.get(`${pg.siteUrl}/js`);
        expect(res.body).not.toContain(JS_RENDERED_TEXT);
        expect(res.body).not.toContain('id="rendered"');
        // Run the page's inline script against a tiny DOM: it renders #rendered.
        const script = res.body.match(/<script>(\(function\(\)\{var t=.*?)<\/script>/)![1]!;
        const app = { textContent: 'Loading...', children: [] as { id: string; textContent: string }[], appendChild(c: { id: string; textContent: string }) { this.children.push(c); } };
        const document = { getElementById: (id: string) => (id === 'app' ? app : null), createElement: () => ({ id: '', textContent: '' }) };
        vm.runInNewContext(script, { document });
        expect(app.children).toEqual([{ id: 'rendered', textContent: JS_RENDERED_TEXT }]);
    });

    it('puts the beacon on every HTML page and records what it reports', async () => {
        for (const path of ['/', '/category/1', '/product/1', '/js', '/location']) {
            const res = await client.get(`${pg.siteUrl}${path}`);
            expect(res.body).toContain(`navigator.sendBeacon('${BEACON_PATH}'`);
            expect(res.body).toContain('navigator.userAgent');
        }
        const sid = client.cookie('shop.test', SESSION_COOKIE)!;
        pg.reset();
        const fresh = new Client(pg.proxyUrls[1]);
        await fresh.get(`${pg.siteUrl}/`);
        const res = await fresh.post(`${pg.siteUrl}${BEACON_PATH}`, JSON.stringify({ ua: fresh.userAgent }), { 'content-type': 'text/plain;charset=UTF-8' });
        expect(res.status).toBe(204);
        const stats = pg.stats();
        expect(stats.totals).toMatchObject({ requests: 1, pages: 1, beacons: 1, uaMismatches: 0 });
        expect(stats.requests.map((e) => e.kind)).toEqual(['page', 'beacon']);
        expect(sid).toMatch(/^s/);
    });

    it('issues a host-only session cookie per site and keeps each host apart', async () => {
        pg.reset();
        const c = new Client(pg.proxyUrls[0]);
        const shop = await c.get(`${pg.siteUrl}/`);
        expect(shop.headers['set-cookie']?.[0]).toMatch(new RegExp(`^${SESSION_COOKIE}=s[0-9a-z]+; Path=/; HttpOnly; SameSite=Lax$`));
        await c.get(pg.urlFor('news.test', '/'));
        const shopSid = c.cookie('shop.test', SESSION_COOKIE)!;
        const newsSid = c.cookie('news.test', SESSION_COOKIE)!;
        expect(shopSid).not.toBe(newsSid);
        // A cookie of one host is not a session on another.
        const stolen = await new Client(pg.proxyUrls[0]).get(pg.urlFor('news.test', '/'), { cookie: `${SESSION_COOKIE}=${shopSid}` });
        expect(stolen.headers['set-cookie']).toBeDefined();
        await c.get(`${pg.siteUrl}/product/2`);
        const stats = pg.stats();
        expect(stats.bySession[shopSid]).toMatchObject({ requests: 2, pages: 2 });
        expect(stats.bySession[newsSid]).toMatchObject({ requests: 1 });
        expect(stats.byHost['news.test']!.requests).toBe(2);
        expect(stats.byHost['shop.test']!.requests).toBe(2);
    });

    it('sets the location through the form; prices follow it (no CSRF needed when off)', async () => {
        const c = new Client(pg.proxyUrls[0]);
        const form = await c.get(`${pg.siteUrl}/location`);
        expect(form.body).toContain('<form id="location-form" method="POST" action="/location">');
        const set = await c.post(`${pg.siteUrl}/location`, 'location=DE');
        expect(set.status).toBe(200);
        expect(set.body).toContain('<span id="current-location">DE</span>');
        const product = await c.get(`${pg.siteUrl}/product/5`);
        expect(product.body).toMatch(/<span class="price" data-location="DE" data-currency="EUR">/);
        expect(JSON.parse((await c.get(`${pg.siteUrl}/api/products/5`)).body).price.location).toBe('DE');
        expect((await c.post(`${pg.siteUrl}/location`, 'location=XX')).status).toBe(400);
        expect(pg.stats().requests.find((e) => e.path === '/product/5')).toMatchObject({ location: 'DE', sid: c.cookie('shop.test', SESSION_COOKIE) });
    });
});

describe('session cookie, location and CSRF defenses', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ proxies: { count: 2 }, site: { sessionRequired: true, csrf: true } });
    });
    afterAll(() => pg.close());

    it('serves a landing page that sets the cookie to clients without one, then the content', async () => {
        pg.reset();
        const c = new Client(pg.proxyUrls[0]);
        const first = await c.get(`${pg.siteUrl}/product/3`);
        expect(first.status).toBe(200);
        expect(first.body).toContain('id="landing"');
        expect(first.body).not.toContain('class="price"');
        expect(first.headers['set-cookie']).toHaveLength(1);
        const second = await c.get(`${pg.siteUrl}/product/3`);
        expect(second.body).toContain('class="price"');
        expect(second.headers['set-cookie']).toBeUndefined();
        // A client that drops cookies never gets content.
        const cookieless = new Client(pg.proxyUrls[1]);
        for (let i = 0; i < 3; i++) {
            expect((await cookieless.get(`${pg.siteUrl}/product/3`)).body).toContain('id="landing"');
            cookieless.clearCookies();
        }
        const apiWithout = await cookieless.get(`${pg.siteUrl}/api/products/3`);
        expect(apiWithout.status).toBe(401);
        const stats = pg.stats();
        expect(stats.totals).toMatchObject({ requests: 6, pages: 1, landings: 4, unauthorized: 1 });
        expect(stats.requests.filter((e) => e.kind === 'landing').every((e) => e.reason === 'no-session')).toBe(true);
    });

    it('needs the CSRF token of the session for the location form and the API', async () => {
        pg.reset();
        const c = new Client(pg.proxyUrls[0]);
        await c.get(`${pg.siteUrl}/`);
        const form = await c.get(`${pg.siteUrl}/location`);
        const token = form.body.match(/name="_csrf" value="([0-9a-f]+)"/)![1]!;
        expect(form.body).toContain(`<meta name="csrf-token" content="${token}">`);

        expect((await c.post(`${pg.siteUrl}/location`, 'location=JP')).status).toBe(403);
        expect((await c.post(`${pg.siteUrl}/location`, 'location=JP&_csrf=deadbeef')).status).toBe(403);
        const ok = await c.post(`${pg.siteUrl}/location`, `location=JP&_csrf=${token}`);
        expect(ok.status).toBe(200);
        expect((await c.get(`${pg.siteUrl}/product/1`)).body).toMatch(/data-location="JP" data-currency="JPY">\d+</);

        expect((await c.get(`${pg.siteUrl}/api/products/1`)).status).toBe(403);
        const api = await c.get(`${pg.siteUrl}/api/products/1`, { [CSRF_HEADER]: token });
        expect(api.status).toBe(200);
        expect(JSON.parse(api.body).price).toMatchObject({ location: 'JP', currency: 'JPY' });

        // Another session's token is worthless.
        const other = new Client(pg.proxyUrls[1]);
        await other.get(`${pg.siteUrl}/`);
        expect((await other.get(`${pg.siteUrl}/api/products/1`, { [CSRF_HEADER]: token })).status).toBe(403);

        const stats = pg.stats();
        expect(stats.totals.forbidden).toBe(4);
        expect(stats.requests.filter((e) => e.status === 403).every((e) => e.reason === 'csrf' && e.kind === 'forbidden')).toBe(true);
    });
});
