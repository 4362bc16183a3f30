/**
 * Two SessionManagers (two workers, one process, a manual clock) on one Redis: health one learned holds the other back,
 * a session one created serves the other once its lease is given back, and never while it is held.
 */
import { Log, LogLevel, ProxyConfiguration } from '@crawlee/core';
import { ManualClock, SessionManager, type SessionManagerOptions } from '@sessionpack/core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { redisStore, startRedisServer, type RedisServerHandle, type RedisSessionStore } from '../src/index.js';

let server: RedisServerHandle;
beforeAll(async () => {
    server = await startRedisServer();
});
afterAll(async () => {
    await server?.stop();
});

const PROXIES = ['http://alice:s3cret-one@127.0.0.11:8001', 'http://bob:s3cret-two@127.0.0.12:8002'];
const request = (path: string) => ({ url: `http://shop.test/${path}`, userData: {} });

async function worker(name: string, prefix: string, clock: ManualClock, options: Partial<SessionManagerOptions> = {}) {
    const store = redisStore({ url: server.url, prefix, syncIntervalMillis: 0, workerId: name, clock, leaseIdleMillis: 1000, log: new Log({ level: LogLevel.OFF }) });
    const manager = await SessionManager.open({
        proxyUrls: PROXIES,
        store: { custom: store as never },
        statsIntervalSecs: 0,
        clock,
        log: new Log({ level: LogLevel.OFF }),
        ...options,
    });
    return { manager, store: store as RedisSessionStore, sync: () => store.shared.sync() };
}

it('a proxy one worker backed off is not handed out by the other until its deadline', async () => {
    const clock = new ManualClock();
    const a = await worker('a', 'm1', clock, { pool: { size: 2 }, proxyBackoff: { baseMillis: 60_000, jitter: 0 } });
    const b = await worker('b', 'm1', clock, { pool: { size: 2 }, proxyBackoff: { baseMillis: 60_000, jitter: 0 } });
    // a: a proxy failure on the session's proxy backs it off everywhere for 60 s.
    const s = await a.manager.acquire(request('1'));
    const burnt = s.identity.proxy!.id;
    a.manager.report(s, { type: 'proxy-failure', reason: 'connection refused' });
    await a.sync();
    await b.sync();
    expect(b.manager.health.handle(burnt, 'shop.test').availability(clock.now())).toBe('backoff');
    for (let i = 0; i < 4; i++) {
        const t = await b.manager.acquire(request(`b${i}`));
        expect(t.identity.proxy!.id).not.toBe(burnt);
        b.manager.report(t, { type: 'ok' });
    }
    await clock.advance(61_000);
    expect(b.manager.health.handle(burnt, 'shop.test').availability(clock.now())).toBe('usable');
    await a.manager.close();
    await b.manager.close();
});

it('a session created by one worker is used by the other only after the first gave its lease back', async () => {
    const clock = new ManualClock();
    const a = await worker('a', 'm2', clock, { pool: { size: 1, acquireTimeoutSecs: 60 } });
    const b = await worker('b', 'm2', clock, { pool: { size: 1, acquireTimeoutSecs: 60 } });
    const s = await a.manager.acquire(request('1'));
    s.userData.token = 'from-a';
    a.manager.report(s, { type: 'ok' });
    await a.sync(); // pushes the session and a's lease on it
    await b.sync();
    await clock.advance(0); // the adoption finishes (it looks the proxy up)
    expect(b.manager.getSession(s.id)?.userData.token).toBe('from-a');
    // b's pool is full with a's session, which a holds: b waits.
    let got: string | undefined;
    const pending = b.manager.acquire(request('2')).then((t) => (got = t.id));
    await clock.advance(500);
    expect(got).toBeUndefined();
    // a keeps using it (lease renewed, busy)...
    const again = await a.manager.acquire(request('3'));
    expect(again.id).toBe(s.id);
    await a.sync();
    await b.sync();
    await clock.advance(500);
    expect(got).toBeUndefined();
    // ... then stops: after leaseIdleMillis its next sync gives the lease back, and b gets the session.
    a.manager.report(again, { type: 'ok' });
    await a.sync();
    await clock.advance(1500);
    await a.sync();
    await b.sync();
    await clock.advance(10);
    await pending;
    expect(got).toBe(s.id);
    await a.manager.close();
    await b.manager.close();
});

it('a gateway session that took over a used-up session\'s URL joins another worker on that URL (the id it was asked for)', async () => {
    const clock = new ManualClock();
    const asked: string[] = [];
    const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (id) => (asked.push(String(id)), `http://user-session-${id}:gw-pw-77@127.0.0.30:9000`) });
    const options = { proxyUrls: undefined, proxyConfiguration, pool: { maxUses: 2 } };
    const a = await worker('a', 'm3', clock, options);
    const b = await worker('b', 'm3', clock, options);
    const first = await a.manager.acquire(request('1'));
    a.manager.report(first, { type: 'ok' });
    expect(await a.manager.acquire(request('2'))).toBe(first);
    a.manager.report(first, { type: 'ok' });
    expect(first.isRetired).toBe(true);
    const next = await a.manager.acquire(request('3'));
    a.manager.report(next, { type: 'ok' });
    expect(next.id).not.toBe(first.id);
    expect(next.identity.proxy!.url).toBe(first.identity.proxy!.url);
    expect(asked).toEqual([first.id]);
    await a.sync();
    await b.sync();
    await clock.advance(0); // the adoption finishes (it asks the configuration for the URL)
    expect(b.manager.getSession(next.id)?.identity.proxy?.url).toBe(first.identity.proxy!.url);
    expect(asked).toEqual([first.id, first.id]);
    await a.manager.close();
    await b.manager.close();
});
