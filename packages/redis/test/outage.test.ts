import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { startRedisServer, type RedisServerHandle, type RedisSharedState } from '../src/index.js';
import { openWorkers } from './helpers.js';

let server: RedisServerHandle;

beforeAll(async () => {
    server = await startRedisServer();
});
afterAll(async () => {
    await server?.stop();
});

/** Syncs until Redis answers again (ioredis reconnects on its own schedule): waits on a condition, not a fixed time. */
async function syncUntilOk(store: RedisSharedState) {
    for (let i = 0; i < 200; i++) {
        const r = await store.sync();
        if (r.ok) return r;
        await sleep(50);
    }
    throw new Error('Redis did not come back');
}

it('Redis lost mid-crawl: workers keep their changes, warn once, and merge them (re-seeding an emptied Redis) when it is back', async () => {
    const { stores, logs, clock } = await openWorkers(server.url, 'outage', 2);
    const [a, b] = stores as [RedisSharedState, RedisSharedState];
    const [logA] = logs as [string[], string[]];
    a.recordHealth('proxy_1', 'shop.test', { add: { blocked: 2 }, max: { backoffUntil: clock.now() + 60_000 } });
    b.recordHealth('proxy_1', 'shop.test', { add: { blocked: 4, ok: 1 } });
    a.recordSession('shop.test', 's1', { once: { proxyId: 'proxy_1' }, add: { usage: 1 } });
    expect(await a.lease('shop.test', 's1', 1, 1)).toBe(1);
    a.setBusy('shop.test', 's1', true);
    expect(await b.lease('shop.test', 'held-by-b', 1, 1)).toBe(1);
    b.setBusy('shop.test', 'held-by-b', true);
    await b.sync();
    await a.sync();
    await b.sync();
    await a.sync();
    expect(a.health('proxy_1', 'shop.test').counts).toEqual({ blocked: 6, ok: 1 });

    await server.kill();
    a.recordHealth('proxy_1', 'shop.test', { add: { blocked: 1 } });
    a.recordSession('shop.test', 's1', { add: { usage: 1 } });
    expect((await a.sync()).ok).toBe(false);
    expect((await a.sync()).ok).toBe(false);
    // The local view goes on: this worker's own change counts at once.
    expect(a.health('proxy_1', 'shop.test').counts).toEqual({ blocked: 7, ok: 1 });
    // Leases go by the local view meanwhile: what b held stays b's; a free session is claimed here, registered later.
    expect(await a.lease('shop.test', 'held-by-b', 1, 1)).toBe(0);
    expect(await a.lease('shop.test', 'free', 1, 1)).toBe(1);
    a.setBusy('shop.test', 'free', true);
    const warnings = logA.filter((l) => l.startsWith('WARNING') && l.includes('Lost Redis'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`redis://127.0.0.1:${server.port}`);

    await server.start(); // empty: it had no persistence
    const ra = await syncUntilOk(a);
    expect(ra.reseeded).toBe(true);
    const rb = await syncUntilOk(b);
    expect(rb.reseeded).toBe(true);
    await a.sync();
    expect(logA.some((l) => l.startsWith('INFO') && l.includes('is back'))).toBe(true);
    // Every increment counted exactly once across the two workers, the backoff deadline kept, the session and its lease back.
    for (const s of [a, b]) {
        expect(s.health('proxy_1', 'shop.test').counts).toEqual({ blocked: 7, ok: 1 });
        expect(s.health('proxy_1', 'shop.test').max.backoffUntil).toBe(clock.now() + 60_000);
        expect(s.session('shop.test', 's1')?.counts.usage).toBe(2);
    }
    await clock.advance(6000);
    await a.sync();
    await b.sync();
    expect(await b.lease('shop.test', 's1', 1, 1)).toBe(0);
    expect(await b.lease('shop.test', 'free', 1, 1)).toBe(0);
    expect(await a.lease('shop.test', 'held-by-b', 1, 1)).toBe(0);
    for (const s of stores) await s.close();
});
