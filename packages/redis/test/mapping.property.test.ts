/**
 * Core's own proxy health (real ProxyHealth, random outcomes) pushed as deltas by one worker comes out identical at
 * another worker; sessions round-trip with their identity by reference, and counters from two workers add up.
 */
import { DEFAULT_BACKOFF, ManualClock, ProxyHealth, type HealthRecord, type OutcomeEffect } from '@sessionpack/core';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { startRedisServer, type RedisServerHandle } from '../src/index.js';
import { healthDelta, healthRecordOf } from '../src/health-mapping.js';
import { retiredDelta, sessionDelta, sessionFieldsOf, type SessionFields } from '../src/session-mapping.js';
import { openWorkers } from './helpers.js';

let server: RedisServerHandle;
beforeAll(async () => {
    server = await startRedisServer();
});
afterAll(async () => {
    await server?.stop();
});

const EFFECTS: OutcomeEffect[] = ['success', 'blocked', 'proxy-failure', 'rate-limited', 'target-error', 'neutral'];

/** Drops deadlines that are over: they hold nothing back, and a success deletes them locally only after they pass. */
function live(r: Readonly<HealthRecord>, now: number): HealthRecord {
    const out = { ...r } as HealthRecord;
    if ((out.backoffUntil ?? 0) <= now) delete out.backoffUntil;
    if ((out.pacedUntil ?? 0) <= now) delete out.pacedUntil;
    if (!out.probing) delete out.probing;
    if (!out.banned) delete out.banned;
    return out;
}

it("a worker's health, pushed as deltas, is what another worker pulls", { timeout: 120_000 }, async () => {
    const clock = new ManualClock();
    const { stores } = await openWorkers(server.url, 'map', 2, {}, clock);
    const [a, b] = stores as [(typeof stores)[0], (typeof stores)[0]];
    let run = 0;
    await fc.assert(
        fc.asyncProperty(
            fc.array(fc.record({ effect: fc.constantFrom(...EFFECTS), dt: fc.integer({ min: 0, max: 8000 }), retryAfter: fc.integer({ min: 0, max: 3000 }), sync: fc.boolean() }), {
                minLength: 1,
                maxLength: 25,
            }),
            fc.integer({ min: 1, max: 1000 }),
            async (steps, seed) => {
                run++;
                const proxy = `proxy_${run}`;
                let x = seed;
                const health = new ProxyHealth(DEFAULT_BACKOFF, clock, () => ((x = (x * 16807) % 2147483647) / 2147483647));
                const pushed = new Map<string, HealthRecord>();
                const push = () => {
                    const e = health.toJSON()[proxy];
                    if (!e) return;
                    for (const [scope, rec] of [['*', e.global] as const, ...Object.entries(e.sites)]) {
                        a.recordHealth(proxy, scope, healthDelta(pushed.get(scope), rec, clock.now()));
                        pushed.set(scope, { ...rec });
                    }
                };
                for (const s of steps) {
                    await clock.advance(s.dt);
                    health.onHandOut(proxy, 'shop.test');
                    health.record(proxy, 'shop.test', s.effect, s.retryAfter);
                    if (s.sync) {
                        push();
                        await a.sync();
                    }
                }
                push();
                await a.sync();
                await b.sync();
                const now = clock.now();
                expect(healthRecordOf(b.health(proxy, '*'), now)).toEqual(live(health.global(proxy), now));
                expect(healthRecordOf(b.health(proxy, 'shop.test'), now)).toEqual(live(health.site(proxy, 'shop.test'), now));
            },
        ),
        { seed: 4242, numRuns: 40 },
    );
    for (const s of stores) await s.close();
});

it('sessions: identity by reference, counters from two workers add up, a retirement sticks', async () => {
    const { stores, clock } = await openWorkers(server.url, 'map-s', 2);
    const [a, b] = stores as [(typeof stores)[0], (typeof stores)[0]];
    const s0: SessionFields = {
        id: 'session_x',
        proxyId: 'proxy_abc',
        headers: { 'user-agent': 'UA/1', accept: '*/*' },
        fingerprint: { screen: { width: 1280 } },
        cookies: [{ key: 'sid', value: 'v1' }],
        userData: { csrf: 'tok' },
        createdAt: clock.now(),
        expiresAt: clock.now() + 3_000_000,
        usageCount: 1,
        errorScore: 0,
        availableAt: 0,
    };
    a.recordSession('shop.test', s0.id, sessionDelta(a, undefined, s0, clock.now()));
    await a.sync();
    await b.sync();
    const atB = sessionFieldsOf(b, s0.id, b.session('shop.test', s0.id)!)!;
    expect(atB).toEqual(s0);
    await clock.advance(100);
    const s1 = { ...atB, usageCount: 3, errorScore: 1, cookies: [{ key: 'sid', value: 'v2' }], availableAt: clock.now() + 50 };
    b.recordSession('shop.test', s0.id, sessionDelta(b, atB, s1, clock.now()));
    const s2 = { ...s0, usageCount: 2 };
    a.recordSession('shop.test', s0.id, sessionDelta(a, s0, s2, clock.now() - 10));
    await a.sync();
    await b.sync();
    await a.sync();
    const merged = sessionFieldsOf(a, s0.id, a.session('shop.test', s0.id)!)!;
    expect(merged.usageCount).toBe(4); // 1 + 2 (b) + 1 (a)
    expect(merged.errorScore).toBe(1);
    expect(merged.cookies).toEqual([{ key: 'sid', value: 'v2' }]); // b's write is the newer one
    expect(merged.availableAt).toBe(s1.availableAt);
    b.recordSession('shop.test', s0.id, retiredDelta('blocked: 403'));
    await b.sync();
    a.recordSession('shop.test', s0.id, sessionDelta(a, merged, { ...merged, usageCount: 5 }, clock.now()));
    await a.sync();
    expect(a.session('shop.test', s0.id)!.once.retired).toBe('blocked: 403');
    for (const s of stores) await s.close();
});
