import { EventEmitter } from 'node:events';

import { Session } from '@crawlee/core';
import { describe, expect, it } from 'vitest';

import { AttemptTracker } from '../src/adapter/index.js';
import { IdentityFactory, ManagedSession } from '../src/index.js';
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

    it("Crawlee's Session API reads our own counters (no Crawlee private field is written)", () => {
        const factory = new IdentityFactory({ random: seeded(2) });
        const options = {
            id: 'session_x',
            maxAgeSecs: 60,
            maxUsageCount: 5,
            maxErrorScore: 3,
            errorScoreDecrement: 0.5,
            createdAt: new Date(1000),
            expiresAt: new Date(61_000),
            usageCount: 2,
            errorScore: 1,
            userData: { a: 1 },
        };
        const ours = ManagedSession.create({
            ...options,
            poolKey: 'a.test',
            identity: factory.create(undefined),
            owner: { now: () => 0, retireSession: () => {} },
            events: new EventEmitter(),
            log: quietLog(),
        });
        const crawlee = new Session({ ...options, sessionPool: new EventEmitter() as never });
        const plain = (x: Session) => ({ ...x.getState(), cookieJar: undefined });
        expect(plain(ours)).toEqual(plain(crawlee));
        expect(Object.keys(ours).filter((k) => k.startsWith('_'))).toEqual([]);
        expect([ours.isBlocked(), ours.isMaxUsageCountReached(), ours.usageCount, ours.errorScore]).toEqual([false, false, 2, 1]);
        // Restored jars (JSON, or only the cookies as the stored state keeps them) become real jars.
        ours.setCookie('a=b; Path=/', 'https://a.test/');
        const json = ours.cookieJar.toJSON() as { cookies: unknown[] };
        for (const jar of [json, { cookies: json.cookies }]) {
            const restored = ManagedSession.create({ ...options, poolKey: 'a.test', identity: ours.identity, owner: { now: () => 0, retireSession: () => {} }, events: new EventEmitter(), log: quietLog(), cookieJar: jar });
            expect(restored.getCookieString('https://a.test/')).toBe('a=b');
            expect(restored.cookieJar.constructor).toBe(crawlee.cookieJar.constructor);
        }
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
    it("reports each attempt once; Crawlee's calls on the attempt's handle after it ended are ignored", async () => {
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
        // Crawlee's session rotation after the SessionError: retire() then markBad(). Both are ignored.
        s.retire();
        s.markBad();
        s.markBad();
        expect(s.state).toBe('cooling');
        expect(s.usageCount).toBe(1);
        expect(s.errorScore).toBe(0);
        // The session itself (no attempt) keeps Crawlee's meaning.
        s.real.markBad();
        expect(s.errorScore).toBe(1);
        const c = manager.stats().totals.counters;
        expect(c['use/rate-limited']).toBe(1);
        expect(c['use/ok']).toBe(0);
        await manager.close();
    });

    it("retire() / markBad() on a reused session's handle during its attempt take effect and merge into its report", async () => {
        const { manager } = await openManager({ proxyUrls: PROXIES, pool: { size: 1, maxUses: 100 } });
        const tracker = new AttemptTracker(manager);
        const request = req('https://a.test/');
        for (let i = 0; i < 3; i++) {
            await tracker.begin(request);
            tracker.end(request, { type: 'ok' });
            tracker.current(request)!.markGood(); // Crawlee's bookkeeping after the handler
        }
        const used = await tracker.begin(request);
        expect(used.usageCount).toBe(3);
        used.markBad(); // the user's handler spotted something off
        tracker.end(request, { type: 'ok' });
        // One use, counted once, as a target error: error score 0 → 1 (Crawlee's markBad), not also an ok's −0.5.
        expect([used.usageCount, used.errorScore]).toEqual([4, 1]);
        const again = await tracker.begin(request);
        expect(again.id).toBe(used.id);
        again.retire(); // the user's handler spotted a block on a session used 4 times before
        expect(again.state).toBe('retired');
        tracker.end(request, { type: 'ok' });
        const c = manager.stats().totals.counters;
        expect([c['use/ok'], c['use/target-error'], c['use/blocked'], c['session/retired']]).toEqual([3, 1, 1, 1]);
        const next = await tracker.begin(request);
        expect(next.id).not.toBe(used.id);
        await manager.close();
    });

    it("without an attempt, retire()/markBad()/markGood() behave like Crawlee's Session", async () => {
        const { manager, clock } = await openManager({ pool: { maxAgeSecs: 10, maxErrorScore: 2 } });
        const s = await manager.acquire(req('https://a.test/'));
        manager.report(s, { type: 'ok' });
        s.markBad();
        expect(s.state).not.toBe('retired');
        s.markBad();
        expect(s.retiredReason).toMatch(/error score/);
        const t = await manager.acquire(req('https://a.test/'));
        manager.report(t, { type: 'ok' });
        clock.set(clock.now() + 10_000);
        t.markGood(); // Crawlee: markGood() on an expired session retires it
        expect(t.retiredReason).toBe('max age reached');
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
        expect(second.real).toBe(first.real); // each attempt has its own handle on the same session
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
