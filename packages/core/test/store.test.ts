import { KeyValueStore, Log, LogLevel, ProxyConfiguration } from '@crawlee/core';
import { describe, expect, it, vi } from 'vitest';

import { ManualClock, STATE_FORMAT, SessionManager, type PersistedState, type SessionManagerOptions } from '../src/index.js';
import { memoryConfig, PASSWORDS, PROXIES, quietLog, req, seeded } from './helpers.js';

async function open(config: ReturnType<typeof memoryConfig>, clock: ManualClock, options: SessionManagerOptions = {}) {
    return SessionManager.open({ config, clock, statsIntervalSecs: 0, random: seeded(7), log: quietLog(), proxyUrls: PROXIES, ...options });
}

const stateOf = (m: SessionManager) => {
    const { savedAt: _s, ...rest } = m.snapshot();
    return rest;
};

describe('store (Crawlee KeyValueStore)', () => {
    it('close() writes the state and final stats; open() restores an equivalent state', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const a = await open(config, clock, { pool: { size: 3, minDelayBetweenUsesMillis: 5000 }, proxyBackoff: { jitter: 0 } });
        const s1 = await a.acquire(req('https://shop.test/1'));
        s1.setCookie('sid=1; Path=/', 'https://shop.test/');
        s1.userData.csrf = 'x';
        a.report(s1, { type: 'ok' });
        const s2 = await a.acquire(req('https://shop.test/2'));
        a.report(s2, { type: 'blocked', reason: '403' });
        const s3 = await a.acquire(req('https://other.test/'));
        a.report(s3, { type: 'proxy-failure' });
        const before = stateOf(a);
        await a.close();

        const kvs = await KeyValueStore.open('sessionpack', { config });
        const record = (await kvs.getValue('SESSIONPACK_STATE')) as PersistedState;
        expect(record.format).toBe(STATE_FORMAT);
        const stats = (await kvs.getValue('SESSIONPACK_STATS')) as { totals: { counters: Record<string, number> } };
        expect(stats.totals.counters['use/ok']).toBe(1);
        for (const pw of PASSWORDS) {
            expect(JSON.stringify(record)).not.toContain(pw);
            expect(JSON.stringify(stats)).not.toContain(pw);
        }
        expect(JSON.stringify(record)).not.toContain('127.0.0.1');

        const b = await open(config, clock, { pool: { size: 3, minDelayBetweenUsesMillis: 5000 }, proxyBackoff: { jitter: 0 } });
        expect(stateOf(b)).toEqual(before);
        const restored = b.getSession(s1.id)!;
        expect(restored.getCookieString('https://shop.test/')).toBe('sid=1');
        expect(restored.userData).toEqual({ csrf: 'x' });
        expect(restored.usageCount).toBe(1);
        expect(restored.identity.proxy!.url).toBe(s1.identity.proxy!.url); // re-attached from the configuration
        expect(restored.identity.headers).toEqual(s1.identity.headers);
        expect(restored.state).toBe('cooling'); // still cooling: deadlines are kept
        // Retired sessions stay retired.
        expect(b.getSession(s2.id)).toBeUndefined();
        expect(b.pools.get('shop.test')!.recentlyRetired.map((r) => r.id)).toContain(s2.id);
        // Backoffs keep their deadlines.
        expect(b.health.availability(s3.identity.proxy!.id, 'other.test')).toBe('backoff');
        expect(b.health.usableAt(s3.identity.proxy!.id, 'other.test')).toBe(a.health.usableAt(s3.identity.proxy!.id, 'other.test'));
        await clock.advance(5000);
        const handedOut = [];
        for (let i = 0; i < 3; i++) {
            const x = await b.acquire(req('https://shop.test/3'));
            handedOut.push(x);
            b.report(x, { type: 'ok' });
        }
        expect(handedOut).toContain(restored);
        await b.close();
    });

    it('a fingerprint set by a browser adapter is kept with the session and given back after a restore', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const a = await open(config, clock);
        const s = await a.acquire(req('https://shop.test/1'));
        s.setFingerprint({ screen: { width: 1234, height: 567 }, navigator: { hardwareConcurrency: 6 } });
        s.setFingerprint({ screen: { width: 1, height: 1 } }); // ignored: a session keeps its first fingerprint
        a.report(s, { type: 'ok' });
        await a.close();
        const b = await open(config, clock);
        expect(b.getSession(s.id)!.identity.fingerprint).toEqual({ screen: { width: 1234, height: 567 }, navigator: { hardwareConcurrency: 6 } });
        await b.close();
    });

    it("writes on Crawlee's persistState event", async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const m = await open(config, clock);
        await m.acquire(req('https://a.test/'));
        const spy = vi.spyOn(m, 'persist');
        config.getEventManager().emit('persistState' as never, { isMigrating: false });
        expect(spy).toHaveBeenCalledTimes(1);
        await spy.mock.results[0]!.value;
        const kvs = await KeyValueStore.open('sessionpack', { config });
        expect(((await kvs.getValue('SESSIONPACK_STATE')) as PersistedState).pools['a.test']).toBeDefined();
        await m.close();
        // After close the listener is gone.
        config.getEventManager().emit('persistState' as never, { isMigrating: false });
        expect(spy).toHaveBeenCalledTimes(1);
    });

    it('re-attaches proxy URLs by id from the current configuration; drops sessions whose proxy is gone', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const a = await open(config, clock, { pool: { size: 6 } });
        const sessions = [];
        for (let i = 0; i < 6; i++) sessions.push(await a.acquire(req('https://a.test/')));
        for (const s of sessions) a.report(s, { type: 'ok' });
        await a.close();
        // Same proxies with new passwords (rotated credentials) minus the last one.
        const rotated = PROXIES.slice(0, 2).map((u) => u.replace('s3cret', 'rotated'));
        const b = await open(config, clock, { proxyUrls: rotated, pool: { size: 6 } });
        const live = [...b.pools.get('a.test')!.sessions.values()];
        for (const s of live) expect(rotated).toContain(s.identity.proxy!.url);
        const gone = sessions.filter((s) => s.identity.proxy!.url === PROXIES[2]);
        expect(live.length).toBe(6 - gone.length);
        for (const s of gone) expect(b.pools.get('a.test')!.recentlyRetired).toContainEqual(expect.objectContaining({ id: s.id, reason: 'proxy no longer configured' }));
        await b.close();
    });

    it('never hands out a session that expired while the crawler was down', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const a = await open(config, clock, { pool: { maxAgeSecs: 60 } });
        const old = await a.acquire(req('https://a.test/'));
        a.report(old, { type: 'ok' });
        await a.close();
        clock.set(clock.now() + 61_000);
        const b = await open(config, clock, { pool: { maxAgeSecs: 60, size: 1 }, random: seeded(8) });
        expect(b.getSession(old.id)!.isExpired()).toBe(true);
        const fresh = await b.acquire(req('https://a.test/'));
        expect(fresh.id).not.toBe(old.id);
        expect(b.pools.get('a.test')!.recentlyRetired).toContainEqual(expect.objectContaining({ id: old.id, reason: 'max age reached' }));
        await b.close();
    });

    it('a corrupt or foreign record is reported once and replaced', async () => {
        const config = memoryConfig();
        const kvs = await KeyValueStore.open('sessionpack', { config });
        await kvs.setValue('SESSIONPACK_STATE', { hello: 'world' });
        const log = new Log({ level: LogLevel.OFF });
        const warnings: string[] = [];
        const child = log.child({ prefix: 'x' });
        vi.spyOn(log, 'child').mockReturnValue(child);
        vi.spyOn(child, 'warning').mockImplementation((m: string) => void warnings.push(m));
        const m = await SessionManager.open({ config, log, statsIntervalSecs: 0, clock: new ManualClock() });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/Ignoring the stored session state: unknown format/);
        m.report(await m.acquire(req('https://a.test/')), { type: 'ok' });
        await m.close();
        expect(((await kvs.getValue('SESSIONPACK_STATE')) as PersistedState).format).toBe(STATE_FORMAT);

        await kvs.setValue('SESSIONPACK_STATE', { format: STATE_FORMAT, version: 1, pools: { x: { sessions: [{ id: 3 }], retired: [] } }, health: {} });
        warnings.length = 0;
        const m2 = await SessionManager.open({ config, log, statsIntervalSecs: 0, clock: new ManualClock() });
        expect(warnings).toEqual([expect.stringMatching(/a session of pool "x" is malformed/)]);
        await m2.close();
    });

    it('custom key, store name, restore: false and store: false', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const a = await open(config, clock, { store: { keyValueStoreName: 'sessions', key: 'MY_STATE', statsKey: 'MY_STATS' } });
        a.report(await a.acquire(req('https://a.test/')), { type: 'ok' });
        await a.close();
        const kvs = await KeyValueStore.open('sessions', { config });
        expect(await kvs.getValue('MY_STATE')).toBeTruthy();
        expect(await kvs.getValue('MY_STATS')).toBeTruthy();
        const b = await open(config, clock, { store: { keyValueStoreName: 'sessions', key: 'MY_STATE', restore: false } });
        expect(b.pools.size).toBe(0);
        await b.close();
        const c = await open(config, clock, { store: false });
        await c.close();
    });

    it('dynamic proxies are re-attached by asking newUrl() for the same session id', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (id) => `http://u-${id}:pw-dyn@127.0.0.30:9000` });
        const a = await open(config, clock, { proxyUrls: undefined, proxyConfiguration });
        const s = await a.acquire(req('https://a.test/'));
        a.report(s, { type: 'ok' });
        await a.close();
        expect(JSON.stringify(await (await KeyValueStore.open('sessionpack', { config })).getValue('SESSIONPACK_STATE'))).not.toContain('pw-dyn');
        const b = await open(config, clock, { proxyUrls: undefined, proxyConfiguration });
        expect(b.getSession(s.id)!.identity.proxy!.url).toBe(s.identity.proxy!.url);
        await b.close();
    });

    it('a dynamic session that took over a used-up session\'s URL is re-attached to that URL', async () => {
        const config = memoryConfig();
        const clock = new ManualClock();
        const asked: string[] = [];
        const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (id) => (asked.push(String(id)), `http://u-${id}:pw-dyn@127.0.0.30:9000`) });
        const a = await open(config, clock, { proxyUrls: undefined, proxyConfiguration, pool: { maxUses: 2 } });
        const first = await a.acquire(req('https://a.test/'));
        a.report(first, { type: 'ok' });
        expect(await a.acquire(req('https://a.test/'))).toBe(first);
        a.report(first, { type: 'ok' });
        expect(first.isRetired).toBe(true);
        const next = await a.acquire(req('https://a.test/'));
        a.report(next, { type: 'ok' });
        expect(next.id).not.toBe(first.id);
        expect(next.identity.proxy!.url).toBe(first.identity.proxy!.url);
        expect(asked).toEqual([first.id]);
        await a.close();
        const b = await open(config, clock, { proxyUrls: undefined, proxyConfiguration, pool: { maxUses: 2 } });
        expect(b.getSession(next.id)!.identity.proxy!.url).toBe(first.identity.proxy!.url);
        expect(asked).toEqual([first.id, first.id]);
        await b.close();
    });
});
