import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProvingGround, type ProvingGround, type ProvingGroundOptions } from '../src/index.js';
import { TestClock } from './helpers/clock.js';
import { request } from './helpers/client.js';

const bansOptions: ProvingGroundOptions = {
    seed: 11,
    proxies: { count: 20, subnetSize: 5 },
    site: { bans: { fraction: 0.5, subnets: 1, response: ['forbidden', 'soft-block', 'challenge', 'captcha'] } },
};

const kindOf = (body: string, status: number) => {
    if (status === 403 && body.includes('<title>Just a moment...</title>')) return 'challenge';
    if (status === 403 && body.includes('<TITLE>Access Denied</TITLE>')) return 'forbidden';
    if (status === 200 && body.includes('unusual traffic')) return 'soft-block';
    if (status === 200 && body.includes('class="g-recaptcha"')) return 'captcha';
    if (status === 200 && body.includes('Welcome to')) return 'page';
    return `unknown ${status}`;
};

describe('IP bans', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround(bansOptions);
    });
    afterAll(() => pg.close());

    it('bans the configured fraction of IPs, including one whole subnet, by seed', () => {
        const banned = pg.proxies.filter((p) => p.banned);
        expect(banned).toHaveLength(10);
        const bySubnet = new Map<string, number>();
        for (const p of banned) bySubnet.set(p.subnet, (bySubnet.get(p.subnet) ?? 0) + 1);
        expect([...bySubnet.values()]).toContain(5);
    });

    it('gives the same bans for the same seed and other bans for another seed', async () => {
        const same = await startProvingGround(bansOptions);
        const other = await startProvingGround({ ...bansOptions, seed: 12 });
        try {
            const bans = (g: ProvingGround) => g.proxies.map((p) => p.banned);
            expect(bans(same)).toEqual(bans(pg));
            expect(bans(other)).not.toEqual(bans(pg));
        } finally {
            await Promise.all([same.close(), other.close()]);
        }
    });

    it('answers banned IPs with their block response, good IPs with content, and counts each kind', async () => {
        pg.reset();
        const seen = new Map<number, string>();
        for (const p of pg.proxies) {
            const first = await request(`${pg.siteUrl}/`, p.url);
            const second = await request(`${pg.siteUrl}/`, p.url, { tunnel: true });
            seen.set(p.index, kindOf(first.body, first.status));
            // Each banned IP keeps its response.
            expect(kindOf(second.body, second.status)).toBe(seen.get(p.index));
        }
        for (const p of pg.proxies) expect(seen.get(p.index) === 'page').toBe(!p.banned);
        const kinds = new Set(pg.proxies.filter((p) => p.banned).map((p) => seen.get(p.index)));
        expect(kinds).toEqual(new Set(['forbidden', 'soft-block', 'challenge', 'captcha']));

        const stats = pg.stats();
        const count = (kind: string) => 2 * [...seen.values()].filter((k) => k === kind).length;
        expect(stats.totals).toMatchObject({
            requests: 40,
            pages: count('page'),
            forbidden: count('forbidden'),
            softBlocks: count('soft-block'),
            challenges: count('challenge'),
            captchas: count('captcha'),
        });
        for (const p of pg.proxies.filter((x) => x.banned)) {
            expect(stats.byIp[p.ip]!.pages).toBe(0);
            expect(stats.requests.filter((e) => e.ip === p.ip).every((e) => e.reason === 'ip-ban')).toBe(true);
        }
        // Blocked clients get no session.
        expect(Object.keys(stats.bySession)).toHaveLength(count('page'));
    });

    it('block pages carry the real vendors\' markers', async () => {
        const byKind = new Map<string, Awaited<ReturnType<typeof request>>>();
        for (const p of pg.proxies.filter((x) => x.banned)) {
            const res = await request(`${pg.siteUrl}/product/1`, p.url);
            byKind.set(kindOf(res.body, res.status), res);
        }
        const challenge = byKind.get('challenge')!;
        expect(challenge.headers['cf-mitigated']).toBe('challenge');
        expect(challenge.headers.server).toBe('cloudflare');
        expect(challenge.body).toContain('window._cf_chl_opt');
        expect(challenge.body).toContain('challenges.cloudflare.com/turnstile');
        expect(challenge.body).toContain('__cf_chl_tk');
        expect(challenge.body).toContain('cf-turnstile');
        expect(challenge.body).not.toMatch(/<script[^>]+src=/);
        const forbidden = byKind.get('forbidden')!;
        expect(forbidden.headers.server).toBe('AkamaiGHost');
        expect(forbidden.body).toMatch(/Reference&#32;&#35;18/);
        expect(byKind.get('soft-block')!.body).toMatch(/Access denied[\s\S]*unusual traffic/);
        expect(byKind.get('captcha')!.body).toContain('g-recaptcha-response');
    });
});

describe('challenges', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({
            seed: 5,
            proxies: { count: 10 },
            site: { challenges: { userAgents: ['HeadlessChrome', /^curl\//, '^$'], fraction: 0.2 }, challengeStyle: 'cloudflare' },
        });
    });
    afterAll(() => pg.close());

    it('challenges bot user agents and the seeded fraction of IPs on every request', async () => {
        pg.reset();
        const challenged = pg.proxies.filter((p) => p.challenged);
        expect(challenged).toHaveLength(2);
        const clean = pg.proxies.find((p) => !p.challenged)!;
        const ua = (value: string) => ({ headers: { 'user-agent': value } });
        const chrome = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0.0.0 Safari/537.36';
        expect((await request(`${pg.siteUrl}/`, clean.url, ua(chrome))).status).toBe(200);
        expect((await request(`${pg.siteUrl}/`, clean.url, ua('Mozilla/5.0 HeadlessChrome/130.0.0.0'))).status).toBe(403);
        expect((await request(`${pg.siteUrl}/`, clean.url, ua('curl/8.5.0'))).status).toBe(403);
        expect((await request(`${pg.siteUrl}/`, clean.url)).status).toBe(403); // no user agent at all
        expect((await request(`${pg.siteUrl}/`, challenged[0]!.url, ua(chrome))).status).toBe(403);
        const stats = pg.stats();
        expect(stats.totals).toMatchObject({ requests: 5, pages: 1, challenges: 4 });
        expect(stats.requests.filter((e) => e.kind === 'challenge').every((e) => e.reason === 'challenged')).toBe(true);
    });

    it('imitates other vendors when asked', async () => {
        const markers = {
            datadome: [/geo\.captcha-delivery\.com/, /var dd=\{/],
            perimeterx: [/id="px-captcha"/, /window\._pxAppId/, /Press &amp; Hold/],
            imperva: [/_Incapsula_Resource/, /Incapsula incident ID/],
        } as const;
        for (const [style, patterns] of Object.entries(markers)) {
            const g = await startProvingGround({ proxies: { count: 1 }, site: { challenges: { ips: ['127.0.1.11'] }, challengeStyle: style as 'datadome' } });
            try {
                const res = await request(`${g.siteUrl}/`, g.proxyUrls[0]);
                expect(res.status).toBe(403);
                for (const pattern of patterns) expect(res.body).toMatch(pattern);
                expect(res.body).not.toMatch(/<script[^>]+src=/);
                expect(g.stats().totals.challenges).toBe(1);
            } finally {
                await g.close();
            }
        }
    });

    it('can answer challenged clients with a captcha instead', async () => {
        const g = await startProvingGround({ proxies: { count: 1 }, site: { challenges: { ips: ['127.0.1.11'], response: 'captcha' } } });
        try {
            const res = await request(`${g.siteUrl}/`, g.proxyUrls[0]);
            expect(res.status).toBe(200);
            expect(res.body).toContain('class="g-recaptcha"');
            expect(g.stats().totals.captchas).toBe(1);
        } finally {
            await g.close();
        }
    });
});

describe('drift', () => {
    it('bans good IPs after N requests and lets banned ones recover after T ms', async () => {
        const clock = new TestClock();
        const pg = await startProvingGround({
            clock,
            proxies: { count: 2 },
            site: { bans: { ips: ['127.0.1.12'] }, drift: { banAfterRequests: 3, recoverAfterMs: 300 } },
        });
        try {
            const [good, bad] = pg.proxies as [ProvingGround['proxies'][0], ProvingGround['proxies'][0]];
            expect([good.banned, bad.banned]).toEqual([false, true]);
            const statuses: number[] = [];
            for (let i = 0; i < 4; i++) statuses.push((await request(`${pg.siteUrl}/`, good.url)).status);
            expect(statuses).toEqual([200, 200, 200, 403]);
            expect(good.banned).toBe(true);
            expect((await request(`${pg.siteUrl}/`, bad.url)).status).toBe(403);
            clock.advance(299);
            expect([good.banned, bad.banned]).toEqual([true, true]);
            clock.advance(1);
            expect([good.banned, bad.banned]).toEqual([false, false]);
            expect((await request(`${pg.siteUrl}/`, bad.url)).status).toBe(200);
            pg.reset();
            expect([good.banned, bad.banned]).toEqual([false, true]);
        } finally {
            await pg.close();
        }
    });

    it('bans good IPs after T ms, with per-IP jitter from the seed', async () => {
        const clock = new TestClock();
        const pg = await startProvingGround({ clock, seed: 9, proxies: { count: 6 }, site: { drift: { banAfterMs: 200, jitter: 0.5 } } });
        try {
            // Thresholds spread over 100-300 ms: none is banned before 100 ms, all are at 300 ms, and they differ.
            const bannedAt: number[] = [];
            for (let t = 0; t <= 300; t += 10) {
                pg.proxies.forEach((p, i) => {
                    if (bannedAt[i] !== undefined) expect(p.banned).toBe(true); // no recovery configured
                    else if (p.banned) bannedAt[i] = t;
                });
                clock.advance(10);
            }
            expect(bannedAt.filter((t) => t !== undefined)).toHaveLength(6);
            expect(bannedAt.every((t) => t >= 100 && t <= 300)).toBe(true);
            expect(new Set(bannedAt).size).toBeGreaterThan(1);
        } finally {
            await pg.close();
        }
    });
});
