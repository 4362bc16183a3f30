import { ProxyConfiguration } from '@crawlee/core';
import { describe, expect, it, vi } from 'vitest';

import { CrawlAbortError, InitFailedError, type Rule } from '../src/index.js';
import { openManager, PROXIES, req } from './helpers.js';

describe('init hooks', () => {
    it('run once per new session, before its first use, with session, request, pool, log, sendRequest and initTools', async () => {
        const seen: Record<string, unknown>[] = [];
        const rules: Rule[] = [
            {
                match: 'https://shop.test/**',
                pool: 'shop@US',
                init: [
                    async (state) => {
                        seen.push({ ...state });
                        expect(state.session.state).toBe('initializing');
                        state.session.userData.csrf = 'tok';
                    },
                    ({ session }) => {
                        session.userData.second = true;
                    },
                ],
            },
        ];
        const { manager } = await openManager({ rules, pool: { size: 1 } });
        const page = { fake: 'page' };
        const s = await manager.acquire(req('https://shop.test/a'), { initTools: { page } });
        expect(s.userData).toEqual({ csrf: 'tok', second: true });
        expect(s.state).toBe('ready');
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ session: s, pool: 'shop@US', page, request: { url: 'https://shop.test/a' } });
        expect(typeof seen[0]!.sendRequest).toBe('function');
        expect(seen[0]!.log).toBeDefined();
        manager.report(s, { type: 'ok' });
        await manager.acquire(req('https://shop.test/b'));
        expect(seen).toHaveLength(1);
        expect(manager.stats().pools['shop@US']!.counters['init/passed']).toBe(1);
    });

    it('a failed init retires the session and tries another; N failures in a row stop with InitFailedError', async () => {
        let calls = 0;
        const { manager } = await openManager({
            pool: { maxInitFailuresInRow: 3 },
            rules: [
                {
                    match: '**',
                    init: () => {
                        calls++;
                        if (calls < 3) throw new Error(`login failed #${calls}`);
                    },
                },
            ],
        });
        const s = await manager.acquire(req('https://a.test/'));
        expect(calls).toBe(3);
        expect(s.state).toBe('ready');
        const c = manager.stats().pools['a.test']!.counters;
        expect([c['init/failed'], c['init/passed'], c['session/retired']]).toEqual([2, 1, 2]);

        const { manager: broken } = await openManager({
            pool: { maxInitFailuresInRow: 3 },
            rules: [{ match: '**', init: () => Promise.reject(new Error('wrong password')) }],
        });
        const err = await broken.acquire(req('https://a.test/')).catch((e) => e);
        expect(err).toBeInstanceOf(InitFailedError);
        expect(err.stopsCrawl).toBe(true);
        expect(err.message).toMatch(/3 times in a row in pool "a.test".*wrong password/);
        // Sticky: later acquires fail the same way without running init again.
        await expect(broken.acquire(req('https://a.test/'))).rejects.toBe(err);
        // Every pool counts its own failures.
        await expect(broken.acquire(req('https://b.test/'))).rejects.toBeInstanceOf(InitFailedError);
    });

    it('an init that fails on the proxy backs the proxy off and does not count toward the abort', async () => {
        let calls = 0;
        const { manager } = await openManager({
            proxyUrls: PROXIES,
            pool: { maxInitFailuresInRow: 1 },
            rules: [
                {
                    match: '**',
                    init: ({ session }) => {
                        calls++;
                        if (session.identity.proxy!.url === PROXIES[0] || session.identity.proxy!.url === PROXIES[1]) {
                            throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
                        }
                    },
                },
            ],
        });
        const s = await manager.acquire(req('https://a.test/'));
        expect(s.identity.proxy!.url).toBe(PROXIES[2]);
        expect(manager.stats().totals.counters['proxy/backoff']).toBe(calls - 1);
    });

    it('an init may abort the crawl', async () => {
        const { manager } = await openManager({
            rules: [{ match: '**', init: () => { throw new CrawlAbortError('account locked'); } }],
        });
        await expect(manager.acquire(req('https://a.test/'))).rejects.toThrow(/account locked/);
    });

    it('concurrent acquires do not use a session while it initializes', async () => {
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const { manager } = await openManager({ pool: { size: 2, maxConcurrentUses: 5 }, rules: [{ match: '**', init: () => gate }] });
        const a = manager.acquire(req('https://a.test/'));
        const b = manager.acquire(req('https://a.test/'));
        release();
        const [x, y] = await Promise.all([a, b]);
        expect(x).not.toBe(y);
    });
});

describe('evaluate and check hooks', () => {
    const body = '<html><title>Shop</title><body>' + 'products '.repeat(1000) + '</body></html>';

    it('classifies, then runs checks only on ok responses', async () => {
        const check = vi.fn(({ response }: { response: { body?: string } }) => (response.body?.includes('logged out') ? 'retire' : 'keep'));
        const { manager } = await openManager({ rules: [{ match: '**', check: check as never }] });
        const s = await manager.acquire(req('https://a.test/'));
        const r = req('https://a.test/');
        expect(await manager.evaluate({ session: s, request: r, response: { statusCode: 200, body } })).toEqual({ type: 'ok', statusCode: 200 });
        expect(await manager.evaluate({ session: s, request: r, response: { statusCode: 200, body: body + 'logged out' } })).toMatchObject({
            type: 'check-failed',
            statusCode: 200,
        });
        expect(await manager.evaluate({ session: s, request: r, response: { statusCode: 403, body } })).toMatchObject({ type: 'blocked' });
        expect(check).toHaveBeenCalledTimes(2);
    });

    it('passes adapter extras and the classifier verdict; returns a check outcome; abort throws CrawlAbortError', async () => {
        const states: object[] = [];
        const { manager } = await openManager({
            rules: [
                {
                    match: '**',
                    check: [
                        (state) => {
                            states.push(state);
                            if (state.response.body === 'slow down') return { type: 'rate-limited', retryAfterMillis: 9000, reason: 'site says slow' };
                            if (state.response.body === 'suspended') state.abort('account suspended');
                            return undefined;
                        },
                        () => true,
                    ],
                },
            ],
        });
        const s = await manager.acquire(req('https://a.test/'));
        const r = req('https://a.test/x');
        const page = { p: 1 };
        expect(await manager.evaluate({ session: s, request: r, response: { statusCode: 200, body: 'slow down' }, page })).toEqual({
            type: 'rate-limited',
            retryAfterMillis: 9000,
            reason: 'site says slow',
            statusCode: 200,
        });
        expect(states[0]).toMatchObject({ page, session: s, request: r, pool: 'a.test', outcome: { type: 'ok' } });
        const err = await manager.evaluate({ session: s, request: r, response: { statusCode: 200, body: 'suspended' } }).catch((e) => e);
        expect(err).toBeInstanceOf(CrawlAbortError);
        expect(err.stopsCrawl).toBe(true);
        expect(err.message).toMatch(/account suspended.*pool "a.test"/);
    });

    it('a check that throws counts as check-failed (logged), not as a crash', async () => {
        const { manager } = await openManager({ rules: [{ match: '**', check: () => { throw new Error('bug in check'); } }] });
        const s = await manager.acquire(req('https://a.test/'));
        expect(await manager.evaluate({ session: s, request: req('https://a.test/'), response: { statusCode: 200, body } })).toMatchObject({
            type: 'check-failed',
            reason: 'check threw: bug in check',
        });
    });

    it('uses the session proxy to classify connection errors', async () => {
        const { manager } = await openManager({ proxyUrls: [PROXIES[0]!] });
        const s = await manager.acquire(req('https://a.test/'));
        const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.11:8001'), { code: 'ECONNREFUSED' });
        expect((await manager.evaluate({ session: s, request: req('https://a.test/'), response: { error } })).type).toBe('proxy-failure');
    });

    it('classifier options apply', async () => {
        const { manager } = await openManager({ classifier: { blockedStatusCodes: [451] } });
        const s = await manager.acquire(req('https://a.test/'));
        expect((await manager.evaluate({ session: s, request: req('https://a.test/'), response: { statusCode: 451 } })).type).toBe('blocked');
        expect((await manager.evaluate({ session: s, request: req('https://a.test/'), response: { statusCode: 403 } })).type).toBe('ok');
    });
});

describe('prepare hooks', () => {
    it('edit the outgoing headers from session data', async () => {
        const { manager } = await openManager({
            rules: [
                { match: 'https://a.test/api/**', prepare: [({ session, headers }) => { headers['x-csrf-token'] = String(session.userData.csrf); }] },
                { match: '**', prepare: ({ headers }) => { headers['x-other'] = '1'; } },
            ],
        });
        const s = await manager.acquire(req('https://a.test/api/1'));
        s.userData.csrf = 'abc';
        const headers: Record<string, string> = {};
        await manager.prepare({ session: s, request: req('https://a.test/api/1'), headers });
        expect(headers).toEqual({ 'x-csrf-token': 'abc' });
        const h2: Record<string, string> = {};
        await manager.prepare({ session: s, request: req('https://a.test/page'), headers: h2 });
        expect(h2).toEqual({ 'x-other': '1' });
    });
});

describe('rules and pools through the manager', () => {
    it('ruleFor / poolKeyFor; request.userData.sessionPool names the pool', async () => {
        const rule: Rule = { match: 'https://shop.test/**', pool: 'shop@US' };
        const { manager } = await openManager({ rules: [rule] });
        expect(manager.ruleFor(req('https://shop.test/x'))).toBe(rule);
        expect(manager.poolKeyFor(req('https://shop.test/x'))).toBe('shop@US');
        expect(manager.poolKeyFor(req('https://shop.test/x', { sessionPool: 'account-2' }))).toBe('account-2');
        const s = await manager.acquire(req('https://shop.test/x', { sessionPool: 'account-2' }));
        expect(s.poolKey).toBe('account-2');
    });
});

describe('dynamic proxies (newUrlFunction)', () => {
    it('asks the ProxyConfiguration for one URL per new session', async () => {
        const calls: string[] = [];
        const proxyConfiguration = new ProxyConfiguration({
            newUrlFunction: (sessionId) => {
                calls.push(String(sessionId));
                return `http://user-${sessionId}:pw-dyn@127.0.0.30:9000`;
            },
        });
        const { manager } = await openManager({ proxyConfiguration, pool: { size: 2 } });
        const a = await manager.acquire(req('https://a.test/'));
        const b = await manager.acquire(req('https://a.test/'));
        expect(a.identity.proxy!.url).toBe(`http://user-${a.id}:pw-dyn@127.0.0.30:9000`);
        expect(b.identity.proxy!.id).not.toBe(a.identity.proxy!.id);
        expect(calls).toEqual([a.id, b.id]);
        expect(manager.stats().proxies.configured).toBe('dynamic');
    });
});

describe('init failures bounded per acquire', () => {
    it('dynamic proxies that all fail during init end in NoUsableProxyError, not an endless loop', async () => {
        const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (id) => `http://u-${id}:pw@127.0.0.40:9000` });
        const { manager } = await openManager({
            proxyConfiguration,
            rules: [{ match: '**', init: () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.40:9000'), { code: 'ECONNREFUSED' }); } }],
        });
        const err = await manager.acquire(req('https://a.test/')).catch((e) => e);
        expect(err.name).toBe('NoUsableProxyError');
        expect(manager.stats().pools['a.test']!.counters['init/failed']).toBe(16);
    });

    it('slow failing inits past the timeout give AcquireTimeoutError', async () => {
        const { manager, clock } = await openManager({
            pool: { acquireTimeoutSecs: 10, maxInitFailuresInRow: 100 },
            rules: [{ match: '**', init: () => { clock.set(clock.now() + 6000); throw new Error('slow and wrong'); } }],
        });
        const err = await manager.acquire(req('https://a.test/')).catch((e) => e);
        expect(err.name).toBe('AcquireTimeoutError');
        expect(err.message).toMatch(/2 new sessions failed their init/);
    });
});
