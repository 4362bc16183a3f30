/**
 * Core's own proxy health (the real learner, LearnedHealth, random outcomes) pushed as deltas by one worker comes out
 * identical at another worker, and merges back into a LearnedHealth unchanged; sessions round-trip with their identity
 * by reference, and counters from two workers add up.
 */
import { LearnedHealth, ManualClock, type LearnedRecord, type OutcomeEffect } from '@sessionpack/core';
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
                const health = new LearnedHealth({}, clock, () => ((x = (x * 16807) % 2147483647) / 2147483647));
                const pushed = new Map<string, LearnedRecord>();
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
                    health.record(proxy, 'shop.test', s.effect, s.retryAfter, { sessionId: `s${run}`, goodUses: 0 });
                    if (s.sync) {
                        push();
                        await a.sync();
                    }
                }
                push();
                await a.sync();
                await b.sync();
                const now = clock.now();
                const seen = { '*': health.recordOf(proxy, '*') ?? {}, 'shop.test': health.recordOf(proxy, 'shop.test') ?? {} };
                expect(healthRecordOf(b.health(proxy, '*'), now)).toEqual(seen['*']);
                expect(healthRecordOf(b.health(proxy, 'shop.test'), now)).toEqual(seen['shop.test']);
                // Merged into another worker's learner, the record reads back the same.
                const other = new LearnedHealth({}, clock, () => 0.5);
                for (const scope of ['*', 'shop.test'] as const) {
                    other.merge(proxy, scope, healthRecordOf(b.health(proxy, scope), now));
                    expect(other.recordOf(proxy, scope) ?? {}).toEqual(seen[scope]);
                }
                expect(other.availability(proxy, 'shop.test', now)).toBe(health.availability(proxy, 'shop.test', now));
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
