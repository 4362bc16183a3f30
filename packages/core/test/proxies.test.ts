import { ProxyConfiguration } from '@crawlee/core';
import { describe, expect, it } from 'vitest';

import { DEFAULT_BACKOFF, ManualClock, ProxyHealth, Redactor, proxyIdOf, proxyRefOf } from '../src/index.js';
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

describe('ProxyHealth', () => {
    const make = (options = {}) => {
        const clock = new ManualClock(0);
        const health = new ProxyHealth({ ...DEFAULT_BACKOFF, jitter: 0, ...options }, clock, seeded(3));
        return { clock, health };
    };

    it('backs a failing proxy off exponentially, capped, everywhere', () => {
        const { clock, health } = make({ baseMillis: 1000, maxMillis: 5000 });
        const deadlines: number[] = [];
        for (let i = 0; i < 5; i++) {
            const change = health.record('p', 'a.test', 'proxy-failure');
            expect(change.backoff?.scope).toBe('global');
            deadlines.push(change.backoff!.untilMillis - clock.now());
            expect(health.availability('p', 'a.test')).toBe('backoff');
            expect(health.availability('p', 'b.test')).toBe('backoff');
            // A failure reported during the backoff (a use that started before it) does not extend it.
            expect(health.record('p', 'a.test', 'proxy-failure').backoff).toBeUndefined();
            clock.set(health.usableAt('p', 'a.test')!);
            expect(health.availability('p', 'a.test')).toBe('usable');
            health.onHandOut('p', 'a.test'); // the probe
            expect(health.availability('p', 'a.test')).toBe('probing');
            expect(health.availability('p', 'b.test')).toBe('probing');
        }
        expect(deadlines).toEqual([1000, 2000, 4000, 5000, 5000]);
        // A successful probe clears everything.
        health.record('p', 'a.test', 'success');
        expect(health.availability('p', 'b.test')).toBe('usable');
        expect(health.record('p', 'a.test', 'proxy-failure').backoff!.untilMillis - clock.now()).toBe(1000);
    });

    it('applies jitter within bounds', () => {
        const clock = new ManualClock(0);
        const health = new ProxyHealth({ ...DEFAULT_BACKOFF, baseMillis: 10_000, jitter: 0.5 }, clock, seeded(9));
        const seen = new Set<number>();
        for (let i = 0; i < 20; i++) {
            const d = health.record(`p${i}`, 's', 'proxy-failure').backoff!.untilMillis;
            expect(d).toBeGreaterThanOrEqual(5_000);
            expect(d).toBeLessThanOrEqual(15_000);
            seen.add(d);
        }
        expect(seen.size).toBeGreaterThan(10);
    });

    it('counts blocked outcomes per site: backoff after N in a row, ban after repeated backoffs', () => {
        const { clock, health } = make({ baseMillis: 1000, blockedInRow: 2, banAfterBackoffs: 3 });
        health.record('p', 'a.test', 'blocked');
        expect(health.availability('p', 'a.test')).toBe('usable');
        expect(health.record('p', 'a.test', 'blocked').backoff?.scope).toBe('site');
        expect(health.availability('p', 'a.test')).toBe('backoff');
        expect(health.availability('p', 'b.test')).toBe('usable');
        clock.set(health.usableAt('p', 'a.test')!);
        health.onHandOut('p', 'a.test');
        // A blocked probe backs off again at once.
        expect(health.record('p', 'a.test', 'blocked').backoff?.scope).toBe('site');
        clock.set(health.usableAt('p', 'a.test')!);
        health.onHandOut('p', 'a.test');
        expect(health.record('p', 'a.test', 'blocked').banned).toBe(true);
        expect(health.availability('p', 'a.test')).toBe('banned');
        expect(health.usableAt('p', 'a.test')).toBeUndefined();
        expect(health.summarize(['p'], 'a.test')).toMatchObject({ total: 1, banned: 1, backoff: 0 });
    });

    it('a success resets the blocked streak', () => {
        const { health } = make({ blockedInRow: 2 });
        health.record('p', 's', 'blocked');
        health.record('p', 's', 'success');
        expect(health.record('p', 's', 'blocked').backoff).toBeUndefined();
    });

    it('rate limits pace the proxy on that site without backing it off', () => {
        const { clock, health } = make();
        health.record('p', 's', 'rate-limited', 30_000);
        expect(health.availability('p', 's')).toBe('usable');
        expect(health.pacedUntil('p', 's')).toBe(clock.now() + 30_000);
        expect(health.pacedUntil('p', 'other')).toBe(0);
    });

    it('repeated target errors count as a failure for the site', () => {
        const { health } = make({ targetErrorsInRow: 2, blockedInRow: 1 });
        health.record('p', 's', 'target-error');
        expect(health.record('p', 's', 'target-error').backoff?.scope).toBe('site');
    });

    it('scores by site record with the global record as prior', () => {
        const { health } = make();
        for (let i = 0; i < 10; i++) health.record('good', 'other.test', 'success');
        for (let i = 0; i < 10; i++) health.record('bad', 'other.test', 'blocked');
        // Never seen on a.test: the prior decides.
        expect(health.score('good', 'a.test')).toBeGreaterThan(health.score('fresh', 'a.test'));
        expect(health.score('fresh', 'a.test')).toBeGreaterThan(health.score('bad', 'a.test'));
        // The site record dominates once there is one.
        for (let i = 0; i < 10; i++) health.record('bad', 'a.test', 'success');
        for (let i = 0; i < 10; i++) health.record('good', 'a.test', 'blocked');
        expect(health.score('bad', 'a.test')).toBeGreaterThan(health.score('good', 'a.test'));
    });

    it('round-trips through toJSON/restore with deadlines kept', () => {
        const { clock, health } = make();
        health.record('p', 's', 'proxy-failure');
        health.record('q', 's', 'blocked');
        const json = JSON.parse(JSON.stringify(health.toJSON()));
        const other = new ProxyHealth({ ...DEFAULT_BACKOFF }, clock, seeded(1));
        other.restore(json);
        expect(other.toJSON()).toEqual(health.toJSON());
        expect(other.availability('p', 's')).toBe('backoff');
        expect(other.usableAt('p', 's')).toBe(health.usableAt('p', 's'));
    });
});
