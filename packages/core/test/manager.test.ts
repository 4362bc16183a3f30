import { Session } from '@crawlee/core';
import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError, ManagedSession, NoUsableProxyError } from '../src/index.js';
import { openManager, PROXIES, req } from './helpers.js';

describe('SessionManager basics', () => {
    it('acquires a Crawlee Session with a sticky identity and reuses it after ok', async () => {
        const { manager } = await openManager({ proxyUrls: PROXIES, pool: { size: 1 } });
        const s = await manager.acquire(req('https://shop.test/a'));
        expect(s).toBeInstanceOf(Session);
        expect(s).toBeInstanceOf(ManagedSession);
        expect(s.poolKey).toBe('shop.test');
        expect(PROXIES).toContain(s.identity.proxy!.url);
        expect(s.identity.userAgent).toBe(s.identity.headers['user-agent']);
        expect(s.inUse).toBe(1);
        manager.report(s, { type: 'ok' });
        expect(s.inUse).toBe(0);
        const again = await manager.acquire(req('https://shop.test/b'));
        expect(again).toBe(s);
        manager.report(again, { type: 'ok' });
        manager.report(again, { type: 'ok' }); // no open use: never underflows
        expect(again.inUse).toBe(0);
        expect(manager.stats().pools['shop.test']!.counters['use/ok']).toBe(3);
        await manager.close();
    });

    it('times out naming the pool when every session is busy and the pool is full', async () => {
        const { manager, clock } = await openManager({ pool: { size: 1, acquireTimeoutSecs: 5 } });
        const s = await manager.acquire(req('https://a.test/'));
        const p = manager.acquire(req('https://a.test/2'));
        const caught = p.catch((e) => e);
        await clock.advance(5_000);
        const err = await caught;
        expect(err).toBeInstanceOf(AcquireTimeoutError);
        expect(err.message).toContain('"a.test"');
        manager.report(s, { type: 'ok' });
        await manager.close();
    });

    it('fails with NoUsableProxyError when every proxy is banned for the pool', async () => {
        const { manager } = await openManager({
            proxyUrls: [PROXIES[0]!],
            pool: { size: 1 },
            proxyBackoff: { blockedInRow: 1, banAfterBackoffs: 1 },
        });
        const s = await manager.acquire(req('https://a.test/'));
        manager.report(s, { type: 'blocked', reason: '403' });
        await expect(manager.acquire(req('https://a.test/'))).rejects.toBeInstanceOf(NoUsableProxyError);
        await manager.close();
    });
});
