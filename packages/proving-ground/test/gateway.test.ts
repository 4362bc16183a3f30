import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitIndexOf, ProvingGroundOptionsError, sessionIdOf, startProvingGround, type ProvingGround } from '../src/index.js';
import { Client, request } from './helpers/client.js';

describe('residential-style gateway', () => {
    let pg: ProvingGround;

    beforeAll(async () => {
        pg = await startProvingGround({ seed: 5, proxies: { count: 2 }, gateway: { exits: 8, subnetSize: 4, bannedFraction: 0.25 } });
    });
    afterAll(() => pg.close());

    it('reads the session id from the username, Apify style or plain', () => {
        expect(sessionIdOf('user-session-abc_1')).toBe('abc_1');
        expect(sessionIdOf('groups-RESIDENTIAL,session-x.y~z')).toBe('x.y~z');
        expect(sessionIdOf('user')).toBeUndefined();
        expect(sessionIdOf(undefined)).toBeUndefined();
    });

    it('has its exits on 127.1.S.H, a seeded quarter of them banned', () => {
        const g = pg.gateway!;
        expect(g.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(g.exits.map((e) => e.ip)).toEqual(['127.1.1.11', '127.1.1.12', '127.1.1.13', '127.1.1.14', '127.1.2.11', '127.1.2.12', '127.1.2.13', '127.1.2.14']);
        expect(g.exits.filter((e) => e.banned)).toHaveLength(2);
        expect(pg.proxies.some((p) => p.banned)).toBe(false);
    });

    it('sends one session id through one exit every time; different ids share exits', async () => {
        pg.reset();
        const g = pg.gateway!;
        const ids = Array.from({ length: 24 }, (_, i) => `s${i}`);
        for (const id of ids) {
            for (let k = 0; k < 2; k++) await new Client(g.urlFor(id), undefined, k === 1).get(`${pg.siteUrl}/`);
        }
        const stats = pg.stats();
        const seen = new Map<string, Set<string>>();
        // The site's log has no session id of the gateway: match requests in order (sequential above).
        stats.requests.forEach((entry, i) => {
            const id = ids[Math.floor(i / 2)]!;
            if (!seen.has(id)) seen.set(id, new Set());
            seen.get(id)!.add(entry.ip);
        });
        for (const id of ids) {
            expect([...seen.get(id)!]).toEqual([g.exitFor(id).ip]);
            expect(g.exitFor(id).index).toBe(exitIndexOf(id, 8, 5));
        }
        const exitsUsed = new Set([...seen.values()].map((s) => [...s][0]));
        expect(exitsUsed.size).toBeLessThan(ids.length);
        expect(exitsUsed.size).toBeGreaterThan(3);
        expect(stats.gateway).toMatchObject({ requests: 48, withoutSession: 0, refused: 0 });
        expect(stats.gateway!.bySessionId.s3).toBe(2);
        // Banned exits get blocked, the others served: the site's defenses apply to exit IPs.
        for (const id of ids) {
            const counters = stats.byIp[g.exitFor(id).ip]!;
            if (g.exitFor(id).banned) expect(counters.pages).toBe(0);
            else expect(counters.pages).toBeGreaterThan(0);
        }
        expect(stats.totals.forbidden).toBeGreaterThan(0);
    });

    it('rotates exits for requests without a session id, and refuses non-loopback targets', async () => {
        pg.reset();
        for (let i = 0; i < 20; i++) await request(`${pg.siteUrl}/`, `http://user@127.0.0.1:${pg.gateway!.port}`);
        const stats = pg.stats();
        expect(stats.gateway!.withoutSession).toBe(20);
        expect(Object.keys(stats.byIp).length).toBeGreaterThan(3);
        expect((await request('http://example.com/', pg.gateway!.urlFor('a'))).status).toBe(593);
        expect(pg.stats().gateway!.refused).toBe(1);
    });

    it('requires its password when one is configured, and validates its options', async () => {
        const locked = await startProvingGround({ proxies: { count: 1 }, gateway: { exits: 2, password: 'pw' } });
        try {
            expect(locked.gateway!.urlFor('a')).toMatch(/^http:\/\/user-session-a:pw@127\.0\.0\.1:\d+$/);
            expect((await request(`${locked.siteUrl}/`, locked.gateway!.urlFor('a'))).status).toBe(200);
            expect((await request(`${locked.siteUrl}/`, `http://user-session-a:no@127.0.0.1:${locked.gateway!.port}`)).status).toBe(407);
            expect(locked.stats().gateway!.authFailures).toBe(1);
        } finally {
            await locked.close();
        }
        await expect(startProvingGround({ gateway: { exits: 0 } })).rejects.toThrow(ProvingGroundOptionsError);
        await expect(startProvingGround({ gateway: { bannedFraction: 2 } })).rejects.toThrow(/gateway\.bannedFraction|bannedFraction/);
    });
});

describe('site-wide outage', () => {
    it('answers everyone with 403 while it lasts, from any IP; reset() ends it', async () => {
        const pg = await startProvingGround({ seed: 2, proxies: { count: 3 } });
        try {
            pg.startOutage(60_000);
            for (const url of pg.proxyUrls) expect((await request(`${pg.siteUrl}/product/1`, url)).status).toBe(403);
            const log = pg.stats().requests;
            expect(log.map((e) => [e.kind, e.reason])).toEqual(pg.proxyUrls.map(() => ['forbidden', 'outage']));
            expect(new Set(log.map((e) => e.ip)).size).toBe(3);
            pg.reset();
            expect((await request(`${pg.siteUrl}/product/1`, pg.proxyUrls[0])).status).toBe(200);
            pg.startOutage(0);
            expect((await request(`${pg.siteUrl}/product/2`, pg.proxyUrls[1])).status).toBe(200);
            expect(() => pg.startOutage(-1)).toThrow(/durationMs/);
        } finally {
            await pg.close();
        }
    });
});
