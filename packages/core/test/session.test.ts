import { EventEmitter } from 'node:events';

import { Session } from '@crawlee/core';
import { describe, expect, it } from 'vitest';

import { AttemptTracker, IdentityFactory, ManagedSession } from '../src/index.js';
import { openManager, PROXIES, quietLog, req, seeded } from './helpers.js';

describe('ManagedSession', () => {
    it('is a real Crawlee Session: cookies, userData, getState', async () => {
        const { manager } = await openManager();
        const s = await manager.acquire(req('https://a.test/'));
        expect(s).toBeInstanceOf(Session);
        s.setCookie('sid=abc; Path=/', 'https://a.test/');
        expect(s.getCookieString('https://a.test/x')).toBe('sid=abc');
        expect(s.getCookies('https://a.test/')).toMatchObject([{ name: 'sid', value: 'abc' }]);
        s.setCookiesFromResponse({ headers: { 'set-cookie': ['k=v; Path=/'] }, url: 'https://a.test/' });
        expect(s.getCookieString('https://a.test/')).toContain('k=v');
        s.userData.token = 't';
        const state = s.getState();
        expect(state).toMatchObject({ id: s.id, userData: { token: 't' }, usageCount: 0, errorScore: 0, maxUsageCount: 50 });
        expect(s.isUsable()).toBe(true);
        expect(s.state).toBe('ready');
        await manager.close();
    });

    it('the fast constructor builds the same object as the real one', () => {
        const factory = new IdentityFactory({ random: seeded(2) });
        const options = {
            id: 'session_x',
            poolKey: 'a.test',
            identity: factory.create(undefined),
            owner: { now: () => 0, retireSession: () => {}, onVerdict: () => {} },
            events: new EventEmitter(),
            log: quietLog(),
            maxAgeSecs: 60,
            maxUsageCount: 5,
            maxErrorScore: 3,
            errorScoreDecrement: 0.5,
            createdAt: new Date(1000),
            usageCount: 2,
            errorScore: 1,
            userData: { a: 1 },
        };
        const slow = new ManagedSession(options);
        const fast = ManagedSession.create(options);
        expect(Object.keys(fast).sort()).toEqual(Object.keys(slow).sort());
        const plain = (x: ManagedSession) => ({ ...x.getState(), cookieJar: undefined, state: x.state, inUse: x.inUse });
        expect(plain(fast)).toEqual(plain(slow));
        // Restored jars (JSON) become real jars on both paths.
        slow.setCookie('a=b; Path=/', 'https://a.test/');
        const restored = ManagedSession.create({ ...options, cookieJar: slow.cookieJar.toJSON() });
        expect(restored.getCookieString('https://a.test/')).toBe('a=b');
    });

    it('expires by the manager clock', async () => {
        const { manager, clock } = await openManager({ pool: { maxAgeSecs: 10 } });
        const s = await manager.acquire(req('https://a.test/'));
        expect(s.isExpired()).toBe(false);
        clock.set(clock.now() + 10_000);
        expect(s.isExpired()).toBe(true);
        expect(s.isUsable()).toBe(false);
        await manager.close();
    });

    it('retire() reaches the manager: leaves the pool, emits sessionRetired once', async () => {
        const { manager } = await openManager({ pool: { size: 1 } });
        const retired: Session[] = [];
        manager.events.on('sessionRetired', (x: Session) => retired.push(x));
        const s = await manager.acquire(req('https://a.test/'));
        s.retire();
        s.retire();
        expect(s.state).toBe('retired');
        expect(s.retiredReason).toBe('retire() called');
        expect(retired).toEqual([s]);
        expect(s.isBlocked()).toBe(true);
        manager.report(s, { type: 'ok' });
        const next = await manager.acquire(req('https://a.test/'));
        expect(next).not.toBe(s);
        expect(manager.stats().pools['a.test']!.counters['session/retired']).toBe(1);
        await manager.close();
    });

    it('markBad()/markGood() keep Crawlee semantics and reach the manager', async () => {
        const { manager } = await openManager({ pool: { maxErrorScore: 2, maxUses: 100 } });
        const s = await manager.acquire(req('https://a.test/'));
        s.markBad();
        expect(s.errorScore).toBe(1);
        expect(s.usageCount).toBe(1);
        s.markGood();
        expect(s.errorScore).toBe(0.5);
        expect(s.usageCount).toBe(2);
        s.markBad();
        s.markBad();
        expect(s.state).toBe('retired');
        expect(s.retiredReason).toMatch(/error score/);
        await manager.close();
    });

    it('markGood() up to maxUses retires like Crawlee', async () => {
        const { manager } = await openManager({ pool: { maxUses: 2 } });
        const s = await manager.acquire(req('https://a.test/'));
        s.markGood();
        s.markGood();
        expect(s.retiredReason).toBe('max uses reached');
        await manager.close();
    });
});

describe('AttemptTracker', () => {
    it('reports each attempt once and absorbs Crawlee echoes of the reported use', async () => {
        const { manager } = await openManager({ proxyUrls: PROXIES });
        const tracker = new AttemptTracker(manager);
        const request = req('https://a.test/');
        const s = await tracker.begin(request);
        expect(tracker.current(request)).toBe(s);
        expect(tracker.isOpen(request)).toBe(true);
        expect(tracker.end(request, { type: 'rate-limited', retryAfterMillis: 1000 })).toBe(true);
        expect(tracker.end(request, { type: 'ok' })).toBe(false);
        expect(tracker.isOpen(request)).toBe(false);
        expect(tracker.current(request)).toBe(s);
        // Crawlee's session rotation after the SessionError: retire() then markBad(). Both are absorbed.
        s.retire();
        s.markBad();
        expect(s.state).toBe('cooling');
        expect(s.usageCount).toBe(1);
        expect(s.errorScore).toBe(0);
        // Later calls are real verdicts again.
        s.markBad();
        expect(s.errorScore).toBe(1);
        const c = manager.stats().totals.counters;
        expect(c['use/rate-limited']).toBe(1);
        expect(c['use/ok']).toBe(0);
        await manager.close();
    });

    it('after an ok end, Crawlee markGood() does not count the use twice', async () => {
        const { manager } = await openManager();
        const tracker = new AttemptTracker(manager);
        const request = req('https://a.test/');
        const s = await tracker.begin(request);
        tracker.end(request, { type: 'ok' });
        s.markGood();
        expect(s.usageCount).toBe(1);
        await manager.close();
    });

    it('ends an abandoned attempt as target-error when the same request begins again', async () => {
        const { manager } = await openManager({ pool: { size: 1, maxConcurrentUses: 1 } });
        const tracker = new AttemptTracker(manager);
        const request = req('https://a.test/');
        const first = await tracker.begin(request);
        const second = await tracker.begin(request); // would time out if the first use were still open
        expect(second).toBe(first);
        expect(first.errorScore).toBe(1);
        expect(manager.stats().totals.counters['use/target-error']).toBe(1);
        expect(first.inUse).toBe(1);
        await manager.close();
    });

    it("Crawlee's markBad() on a navigation timeout and the adapter's target-error count once", async () => {
        const { manager } = await openManager();
        const tracker = new AttemptTracker(manager);
        const request = req('https://a.test/');
        const s = await tracker.begin(request);
        s.markBad(); // Crawlee: handleRequestTimeout
        tracker.end(request, { type: 'target-error', reason: 'timeout' });
        s.markBad(); // Crawlee: after the failed request (the echo)
        expect([s.errorScore, s.usageCount]).toEqual([1, 1]);
        expect(manager.stats().totals.counters['use/target-error']).toBe(1);
        await manager.close();
    });

    it('proxy refs never serialize or print their password', async () => {
        const { manager } = await openManager({ proxyUrls: PROXIES });
        const s = await manager.acquire(req('https://a.test/'));
        expect(s.identity.proxy!.url).toContain('s3cret');
        expect(JSON.stringify(s.identity)).not.toContain('s3cret');
        const { inspect } = await import('node:util');
        expect(inspect(s.identity, { depth: 5 })).not.toContain('s3cret');
        expect({ ...s.identity.proxy }.url).toBe(s.identity.proxy!.url); // spreading keeps the URL for clients
        await manager.close();
    });

    it('end() without begin does nothing', async () => {
        const { manager } = await openManager();
        expect(new AttemptTracker(manager).end(req('https://a.test/'), { type: 'ok' })).toBe(false);
        await manager.close();
    });
});

describe('IdentityFactory', () => {
    it('gives each identity a coherent header set from a bounded cache', () => {
        const f = new IdentityFactory({ variants: 4, random: seeded(5) });
        const ids = Array.from({ length: 50 }, () => f.create(undefined));
        const distinct = new Set(ids.map((i) => i.headers));
        expect(distinct.size).toBeLessThanOrEqual(4);
        for (const i of ids) {
            expect(i.userAgent).toMatch(/Mozilla\/5\.0/);
            expect(i.headers['user-agent']).toBe(i.userAgent);
            expect(Object.keys(i.headers).every((k) => k === k.toLowerCase())).toBe(true);
            expect(Object.isFrozen(i.headers)).toBe(true);
        }
    });

    it('follows headerGeneratorOptions', () => {
        const f = new IdentityFactory({ headerGeneratorOptions: { browsers: ['firefox'], operatingSystems: ['linux'], devices: ['desktop'] } });
        for (let i = 0; i < 5; i++) expect(f.create(undefined).userAgent).toMatch(/Firefox/);
    });
});
