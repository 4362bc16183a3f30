/**
 * The same merge, twice: lua/apply in Redis and applyDelta/combineDeltas here (the local view before a sync). For random
 * delta sequences, Redis' record equals the local fold, and pushing one combined delta equals pushing them one by one.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { applyDelta, combineDeltas, decodeRecord, startRedisServer, type RecordDelta, type RedisServerHandle, type SharedRecord } from '../src/index.js';
import { openWorkers } from './helpers.js';

let server: RedisServerHandle;
let raw: Redis;
beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
});
afterAll(async () => {
    raw?.disconnect();
    await server?.stop();
});

const HALF = 10_000;
const names = fc.constantFrom('a', 'b');
const small = fc.integer({ min: 0, max: 5 });
const delta: fc.Arbitrary<{ d: RecordDelta; dt: number }> = fc.record({
    dt: fc.integer({ min: 0, max: 20_000 }),
    d: fc.record(
        {
            add: fc.dictionary(names, small),
            recent: fc.dictionary(names, small),
            max: fc.dictionary(names, fc.integer({ min: 0, max: 1_000_000 })),
            row: fc.dictionary(names, fc.record({ reset: fc.boolean(), add: small })),
            lww: fc.dictionary(names, fc.record({ value: fc.string({ maxLength: 4 }), at: fc.integer({ min: 0, max: 50 }) })),
            once: fc.dictionary(names, fc.string({ maxLength: 4 })),
        },
        { requiredKeys: [] },
    ),
});

function expectSameRecord(actual: SharedRecord, expected: SharedRecord): void {
    for (const part of ['counts', 'recent', 'max', 'rows'] as const) {
        const keys = new Set([...Object.keys(actual[part]), ...Object.keys(expected[part])]);
        for (const k of keys) expect(actual[part][k] ?? 0, `${part}.${k}`).toBeCloseTo(expected[part][k] ?? 0, 6);
    }
    expect(actual.lww).toEqual(expected.lww);
    expect(actual.once).toEqual(expected.once);
}

it('Redis merges deltas exactly like the local view, one by one or combined', { timeout: 120_000 }, async () => {
    const { stores, clock } = await openWorkers(server.url, 'prop', 1, { healthHalfLifeMillis: HALF });
    const store = stores[0]!;
    let run = 0;
    await fc.assert(
        fc.asyncProperty(fc.array(delta, { minLength: 1, maxLength: 6 }), async (steps) => {
            run++;
            const one = `p${run}`;
            const combinedId = `c${run}`;
            let local: SharedRecord = { counts: {}, recent: {}, max: {}, rows: {}, lww: {}, once: {} };
            let combined: RecordDelta | undefined;
            for (const { d, dt } of steps) {
                await clock.advance(dt);
                const stamped: RecordDelta = d.recent ? { ...d, recentAt: clock.now() } : d;
                store.recordHealth(one, 'site', stamped);
                await store.sync();
                local = applyDelta(local, stamped, clock.now(), HALF);
                combined = combined ? combineDeltas(combined, stamped, HALF) : stamped;
            }
            store.recordHealth(combinedId, 'site', combined!);
            await store.sync();
            const inRedis = decodeRecord(await raw.hgetall(store.keys.health(one, 'site')));
            const combinedInRedis = decodeRecord(await raw.hgetall(store.keys.health(combinedId, 'site')));
            const now = clock.now();
            // Compare fading counts as of now (each record was last decayed at a different time).
            const at = (r: SharedRecord): SharedRecord => ({
                ...r,
                recent: Object.fromEntries(Object.entries(r.recent).map(([k, v]) => [k, v * 2 ** (-(now - (r.recentAt ?? now)) / HALF)])),
            });
            expectSameRecord(at(inRedis), at(local));
            expectSameRecord(at(combinedInRedis), at(local));
            expectSameRecord(at(store.health(one, 'site')), at(local));
        }),
        { seed: 1313, numRuns: 30 },
    );
    await store.close();
});
