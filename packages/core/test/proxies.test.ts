import { ProxyConfiguration } from '@crawlee/core';
import { describe, expect, it } from 'vitest';

import { LearnedHealth, ManualClock, Redactor, proxyIdOf, proxyRefOf } from '../src/index.js';
import { ProxySource } from '../src/proxies.js';
import { PROXIES, seeded } from './helpers.js';

describe('proxy ids and refs', () => {
    it('are stable, ignore the password and never contain it', () => {
        const a = proxyIdOf('http://alice:one@127.0.0.11:8001');
        expect(proxyIdOf('http://alice:two@127.0.0.11:8001')).toBe(a);
        expect(proxyIdOf('http://bob:one@127.0.0.11:8001')).not.toBe(a);
        expect(proxyIdOf('http://alice:one@127.0.0.11:8002')).not.toBe(a);
        expect(a).toMatch(/^proxy_[0-9a-f]{12}$/);
        const ref = proxyRefOf('http://alice:one@127.0.0.11:8001');
        expect(ref.redactedUrl).toBe('http://alice:***@127.0.0.11:8001');
        expect(ref.url).toBe('http://alice:one@127.0.0.11:8001');
    });
});

describe('ProxySource', () => {
    it('from proxyUrls, deduplicated, null = direct', () => {
        const src = ProxySource.create({ proxyUrls: [PROXIES[0]!, PROXIES[0]!, null, PROXIES[1]!] }, new Redactor());
        expect(src.dynamic).toBe(false);
        expect(src.fixed!.map((p) => p?.url)).toEqual([PROXIES[0], undefined, PROXIES[1]]);
    });

    it('direct when nothing is given', () => {
        const src = ProxySource.create({}, new Redactor());
        expect(src.fixed).toEqual([undefined]);
    });

    it('from a ProxyConfiguration with proxyUrls or tieredProxyUrls', () => {
        const a = ProxySource.create({ proxyConfiguration: new ProxyConfiguration({ proxyUrls: PROXIES }) }, new Redactor());
        expect(a.fixed!.map((p) => p!.url)).toEqual(PROXIES);
        const b = ProxySource.create(
            { proxyConfiguration: new ProxyConfiguration({ tieredProxyUrls: [[PROXIES[0]!], [PROXIES[1]!, PROXIES[2]!]] }) },
            new Redactor(),
        );
        expect(b.fixed!.map((p) => p!.url)).toEqual(PROXIES);
    });

    it('from a newUrlFunction: one URL per session, remembered by id, password registered for redaction', async () => {
        const redactor = new Redactor();
        const pc = new ProxyConfiguration({ newUrlFunction: (sessionId) => `http://user-${sessionId}:pw-secret@127.0.0.20:9000` });
        const src = ProxySource.create({ proxyConfiguration: pc }, redactor);
        expect(src.dynamic).toBe(true);
        const ref = (await src.fromConfiguration('s1'))!;
        expect(ref.url).toContain('user-s1');
        expect(src.byId(ref.id)).toBe(ref);
        expect(redactor.text('oops pw-secret leaked')).toBe('oops *** leaked');
    });
});

describe('LearnedHealth (the learner as the proxy-health model)', () => {
    const make = () => {
        const clock = new ManualClock(1_000_000);
        return { clock, health: new LearnedHealth({}, clock, seeded(3), ['a', 'b']) };
    };

    it('backs a failing proxy off everywhere, then probes it with one use', async () => {
        const { clock, health } = make();
        const change = health.record('a', 'shop.test', 'proxy-failure');
        expect(change.backoff?.scope).toBe('global');
        expect(health.availability('a', 'other.test')).toBe('backoff');
        await clock.advance(change.backoff!.untilMillis - clock.now());
        expect(health.availability('a', 'shop.test')).toBe('usable');
        health.onHandOut('a', 'shop.test');
        expect(health.availability('a', 'shop.test')).toBe('probing');
        health.record('a', 'shop.test', 'success');
        expect(health.availability('a', 'shop.test')).toBe('usable');
    });

    it('a fresh session blocked backs its proxy off on that site only; a rate limit paces it without a backoff', () => {
        const { clock, health } = make();
        expect(health.record('a', 'shop.test', 'blocked', 0, { sessionId: 's1', goodUses: 0 }).blame).toBe('proxy');
        expect(health.availability('a', 'shop.test')).toBe('backoff');
        expect(health.availability('a', 'news.test')).toBe('usable');
        health.record('b', 'shop.test', 'rate-limited', 3000, { sessionId: 's2', goodUses: 4 });
        expect(health.availability('b', 'shop.test')).toBe('usable');
        expect(health.handle('b', 'shop.test').pacedUntil()).toBe(clock.now() + 3000);
    });

    it("a site's first 429 paces the site's other proxies at once, for the uses they already sent", async () => {
        const { clock, health } = make();
        const b = health.handle('b', 'shop.test');
        for (let i = 0; i < 10; i++) {
            health.onHandOut('a', 'shop.test');
            if (i < 4) health.onHandOut('b', 'shop.test');
            await clock.advance(100);
        }
        const before = b.version;
        expect(b.pacedUntil()).toBe(0);
        health.record('a', 'shop.test', 'rate-limited', 5000, { sessionId: 's1', goodUses: 9 });
        // b's version moved without a use of b: a pool re-reads it. Its 4 uses, replayed at a's rate (0.8 x 9 allowed per
        // 10 s), push its next use past now.
        expect(b.version).not.toBe(before);
        expect(b.pacedUntil()).toBeGreaterThan(clock.now());
        expect(health.handle('b', 'news.test').pacedUntil()).toBe(0);
    });

    it('round-trips through toJSON/restore with deadlines kept, by proxy id only; old records carry nothing', () => {
        const { clock, health } = make();
        health.record('a', 'shop.test', 'blocked', 0, { goodUses: 0 });
        health.record('b', 'shop.test', 'success');
        const data = JSON.parse(JSON.stringify(health.toJSON()));
        expect(Object.keys(data).sort()).toEqual(['a', 'b']);
        expect(data.a.sites['shop.test'].backoff.until).toBeGreaterThan(clock.now());
        const copy = new LearnedHealth({}, clock, seeded(4), ['a', 'b']);
        expect(copy.restore(data)).toEqual([]);
        expect(copy.availability('a', 'shop.test')).toBe('backoff');
        expect(copy.availability('b', 'shop.test')).toBe('usable');
        const old = new LearnedHealth({}, clock, seeded(5), ['a']);
        old.restore({ a: { global: { successes: 3 } as never, sites: { 'shop.test': { banned: true, blocked: 9 } as never } } });
        expect(old.availability('a', 'shop.test')).toBe('usable');
    });
});
