import { createServer } from 'node:net';

import type { PersistedSession, PersistedState } from '@sessionpack/core';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GLOBAL_SCOPE, redisStore, RedisSharedState, RedisUnavailableError, recentAt, startRedisServer, type RedisServerHandle, type SharedChange } from '../src/index.js';
import { dumpPrefix, openWorkers } from './helpers.js';

let server: RedisServerHandle;
let prefixCounter = 0;
const prefix = () => `t${++prefixCounter}`;

beforeAll(async () => {
    server = await startRedisServer();
});
afterAll(async () => {
    await server?.stop();
});

async function closedPort(): Promise<number> {
    return new Promise((resolve) => {
        const s = createServer();
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address() as { port: number };
            s.close(() => resolve(port));
        });
    });
}

describe('open', () => {
    it('fails with a clear error naming the URL without its password when Redis is not there', async () => {
        const port = await closedPort();
        const store = new RedisSharedState({ url: `redis://crawler:hunter2-secret@127.0.0.1:${port}/0`, syncIntervalMillis: 0 });
        const error = await store.open().then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RedisUnavailableError);
        const message = (error as Error).message;
        expect(message).toContain(`redis://crawler:***@127.0.0.1:${port}/0`);
        expect(message).toContain('ECONNREFUSED');
        expect(message).not.toContain('hunter2-secret');
        expect((error as RedisUnavailableError).url).not.toContain('hunter2-secret');
    });

    it('rejects bad options at construction, naming the option', () => {
        expect(() => redisStore({ url: 'http://127.0.0.1:6379' })).toThrow(/url/);
        expect(() => redisStore({ syncIntervalMillis: -1 })).toThrow(/syncIntervalMillis/);
        expect(() => redisStore({ prefix: '' })).toThrow(/prefix/);
        expect(() => redisStore({ syncIntervalMillis: 1000, leaseTtlMillis: 1500 })).toThrow(/leaseTtlMillis/);
        expect(() => redisStore({ bogus: 1 } as never)).toThrow(/bogus/);
        expect(() => redisStore({ url: 'redis://a:pw-zzz@127.0.0.1:1', client: {} as never })).not.toThrow(/pw-zzz/);
    });
});

describe('proxy health shared by workers', () => {
    it('merges increments, deadlines and in-a-row counters from every worker; each sees the sum after a sync', async () => {
        const { stores, clock } = await openWorkers(server.url, prefix(), 3);
        const [a, b, c] = stores as [typeof stores[0], typeof stores[0], typeof stores[0]];
        const now = clock.now();
        a.recordHealth('proxy_1', 'shop.test', { add: { blocked: 2 }, row: { failures: { reset: false, add: 2 } }, max: { backoffUntil: now + 5000 } });
        b.recordHealth('proxy_1', 'shop.test', { add: { blocked: 1, ok: 4 }, row: { failures: { reset: false, add: 1 } }, max: { backoffUntil: now + 9000 } });
        c.recordHealth('proxy_1', GLOBAL_SCOPE, { add: { proxyFailures: 1 } });
        // Before any sync, each worker sees only its own.
        expect(b.health('proxy_1', 'shop.test').counts).toEqual({ blocked: 1, ok: 4 });
        for (const s of stores) await s.sync();
        for (const s of stores) await s.sync();
        for (const s of stores) {
            const h = s.health('proxy_1', 'shop.test');
            expect(h.counts).toEqual({ blocked: 3, ok: 4 });
            expect(h.rows.failures).toBe(3);
            expect(h.max.backoffUntil).toBe(now + 9000);
            expect(s.health('proxy_1', GLOBAL_SCOPE).counts).toEqual({ proxyFailures: 1 });
        }
        // A success elsewhere resets the row; a later, smaller deadline does not shorten the backoff.
        c.recordHealth('proxy_1', 'shop.test', { add: { ok: 1 }, row: { failures: { reset: true, add: 0 } }, max: { backoffUntil: now + 1000 } });
        await c.sync();
        await a.sync();
        expect(a.health('proxy_1', 'shop.test').rows.failures).toBe(0);
        expect(a.health('proxy_1', 'shop.test').max.backoffUntil).toBe(now + 9000);
        for (const s of stores) await s.close();
    });

    it('keeps fading counts with a half-life (recency) and a learned pace where the newest value wins', async () => {
        const { stores, clock } = await openWorkers(server.url, prefix(), 2, { healthHalfLifeMillis: 60_000 });
        const [a, b] = stores as [typeof stores[0], typeof stores[0]];
        a.recordHealth('proxy_2', 'shop.test', { recent: { blocked: 8 }, recentAt: clock.now(), lww: { paceMillis: { value: '500', at: clock.now() } } });
        await a.sync();
        await clock.advance(60_000);
        b.recordHealth('proxy_2', 'shop.test', { recent: { blocked: 1 }, recentAt: clock.now(), lww: { paceMillis: { value: '250', at: clock.now() } } });
        await b.sync();
        await a.sync();
        const h = a.health('proxy_2', 'shop.test');
        // 8 a half-life ago counts 4, plus 1 now.
        expect(recentAt(h, 'blocked', clock.now(), 60_000)).toBeCloseTo(5, 6);
        expect(recentAt(h, 'blocked', clock.now() + 60_000, 60_000)).toBeCloseTo(2.5, 6);
        expect(h.lww.paceMillis?.value).toBe('250');
        for (const s of stores) await s.close();
    });

    it('refuses proxy URLs where an id belongs', async () => {
        const { stores } = await openWorkers(server.url, prefix(), 1);
        expect(() => stores[0]!.recordHealth('http://u:pw@127.0.0.1:1', 'shop.test', { add: { ok: 1 } })).toThrow(/ids, not URLs/);
        await stores[0]!.close();
    });
});

describe('sessions shared by workers', () => {
    it('a session written by one worker (identity by reference, cookies, userData, counters) is seen by another', async () => {
        const p = prefix();
        const { stores, clock } = await openWorkers(server.url, p, 2);
        const [a, b] = stores as [typeof stores[0], typeof stores[0]];
        const changes: SharedChange[] = [];
        b.onChange((c) => changes.push(c));
        const headerSet = a.putHeaderSet({ 'user-agent': 'Mozilla/5.0 test', 'accept-language': 'en-US' });
        a.recordSession('shop.test', 'session_a', {
            once: { headerSet, proxyId: 'proxy_1', createdAt: String(clock.now()) },
            lww: {
                cookies: { value: JSON.stringify({ cookies: [{ key: 'sid', value: 'abc' }] }), at: clock.now() },
                userData: { value: JSON.stringify({ csrf: 't0k3n', seenVia: 'http://bob:s3cret-two@127.0.0.12:8002' }), at: clock.now() },
            },
            add: { usage: 3, errorScore: 0.5 },
            max: { availableAt: clock.now() + 100 },
        });
        await a.sync();
        await b.sync();
        expect(b.sessionIds('shop.test')).toEqual(['session_a']);
        const s = b.session('shop.test', 'session_a')!;
        expect(s.once.proxyId).toBe('proxy_1');
        expect(b.headerSet(s.once.headerSet!)).toEqual({ 'user-agent': 'Mozilla/5.0 test', 'accept-language': 'en-US' });
        expect(JSON.parse(s.lww.cookies!.value)).toEqual({ cookies: [{ key: 'sid', value: 'abc' }] });
        expect(JSON.parse(s.lww.userData!.value).csrf).toBe('t0k3n');
        expect(s.counts).toEqual({ usage: 3, errorScore: 0.5 });
        expect(changes.some((c) => c.kind === 'session' && c.id === 'session_a')).toBe(true);

        // b uses it too; a retires it first; both see the sum and a's retirement, which a later one does not overwrite.
        await clock.advance(10);
        b.recordSession('shop.test', 'session_a', { add: { usage: 1 }, lww: { cookies: { value: '{"cookies":[]}', at: clock.now() } } });
        a.recordSession('shop.test', 'session_a', { once: { retired: 'blocked: 403' }, expire: true });
        b.recordSession('shop.test', 'session_a', { once: { retired: 'later reason' } });
        await a.sync();
        await b.sync();
        await a.sync();
        for (const st of stores) {
            const r = st.session('shop.test', 'session_a')!;
            expect(r.counts.usage).toBe(4);
            expect(r.lww.cookies!.value).toBe('{"cookies":[]}');
            expect(r.once.retired).toBe('blocked: 403');
        }
        // Nothing under the prefix carries a proxy password.
        const dump = await dumpPrefix(server.url, p);
        expect(dump).toContain('t0k3n');
        expect(dump).not.toContain('s3cret-two');
        for (const st of stores) await st.close();
    });

    it('a session that took over another session\'s gateway URL is loaded back with the session id that URL was asked for', async () => {
        const p = prefix();
        const state = (sessions: PersistedSession[]): PersistedState => ({
            format: 'sessionpack/state',
            version: 2,
            savedAt: 1_000,
            pools: { 'shop.test': { sessions, retired: [], retiredCount: 0, initFailuresInRow: 0 } },
            health: {},
            headerSets: [{ 'user-agent': 'UA/1' }],
            fingerprints: [],
        });
        const stored = (id: string, urlSessionId?: string): PersistedSession => ({
            id,
            proxyId: 'proxy_gw',
            ...(urlSessionId ? { urlSessionId } : {}),
            headers: 0,
            cookies: [],
            userData: {},
            createdAt: 1_000,
            expiresAt: 3_001_000,
            usageCount: 1,
            errorScore: 0,
            availableAt: 0,
        });
        const a = redisStore({ url: server.url, prefix: p, syncIntervalMillis: 0, workerId: 'a' });
        await a.load();
        await a.save(state([stored('session_b', 'session_a'), stored('session_c')]));
        await a.close();
        const b = redisStore({ url: server.url, prefix: p, syncIntervalMillis: 0, workerId: 'b' });
        const loaded = await b.load();
        const byId = new Map(loaded.pools['shop.test']!.sessions.map((s) => [s.id, s]));
        expect(byId.get('session_b')?.urlSessionId).toBe('session_a');
        expect(byId.get('session_c')).toBeDefined();
        expect('urlSessionId' in byId.get('session_c')!).toBe(false);
        await b.close();
    });
});
