/**
 * Property-based tests of the pool invariants over random sequences of acquire / report / Crawlee verdicts / time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
    DIRECT_PROXY_ID,
    ManualClock,
    SessionManager,
    SessionpackError,
    type ManagedSession,
    type OutcomeType,
    type PolicyName,
} from '../src/index.js';
import { PASSWORDS, PROXIES, quietLog, seeded } from './helpers.js';
import { MemoryStore } from './memory-store.js';

const SITES = ['https://a.test/', 'https://b.test/x', 'https://c.test/', 'https://a.test/pool-x'];
const OUTCOMES: OutcomeType[] = ['ok', 'ok', 'ok', 'blocked', 'rate-limited', 'proxy-failure', 'target-error', 'handler-error', 'check-failed'];

type Command =
    | { kind: 'acquire'; site: number }
    | { kind: 'report'; index: number; outcome: number; retryAfter: number; leak: boolean }
    | { kind: 'verdict'; index: number; which: 'retire' | 'markBad' | 'markGood' }
    | { kind: 'advance'; millis: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('acquire' as const), site: fc.nat(SITES.length - 1) }) },
    {
        weight: 4,
        arbitrary: fc.record({
            kind: fc.constant('report' as const),
            index: fc.nat(20),
            outcome: fc.nat(OUTCOMES.length - 1),
            retryAfter: fc.integer({ min: 0, max: 5000 }),
            leak: fc.boolean(),
        }),
    },
    {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('verdict' as const), index: fc.nat(20), which: fc.constantFrom('retire', 'markBad', 'markGood') }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), millis: fc.integer({ min: 1, max: 8000 }) }) },
);

const configArb = fc.record({
    size: fc.integer({ min: 1, max: 4 }),
    maxUses: fc.integer({ min: 1, max: 6 }),
    maxConcurrentUses: fc.integer({ min: 1, max: 3 }),
    maxAgeSecs: fc.integer({ min: 2, max: 60 }),
    minDelayBetweenUsesMillis: fc.integer({ min: 0, max: 2000 }),
    delayJitterMillis: fc.integer({ min: 0, max: 500 }),
    acquireTimeoutSecs: fc.integer({ min: 0, max: 5 }),
    maxErrorScore: fc.integer({ min: 1, max: 3 }),
    policy: fc.constantFrom<PolicyName>('scored', 'random', 'round-robin', 'use-until-failure'),
    proxies: fc.subarray([...PROXIES, null], { minLength: 1 }),
    seed: fc.integer(),
});

function assertNoSecrets(text: string) {
    for (const pw of PASSWORDS) expect(text).not.toContain(pw);
}

describe('invariants under random acquire/report/time sequences', () => {
    it('hold for every policy and limit', async () => {
        await fc.assert(
            fc.asyncProperty(configArb, fc.array(commandArb, { minLength: 1, maxLength: 40 }), async (config, commands) => {
                const clock = new ManualClock();
                const store = new MemoryStore();
                const options = {
                    proxyUrls: config.proxies,
                    policy: config.policy,
                    pool: {
                        size: config.size,
                        maxUses: config.maxUses,
                        maxConcurrentUses: config.maxConcurrentUses,
                        maxAgeSecs: config.maxAgeSecs,
                        minDelayBetweenUsesMillis: config.minDelayBetweenUsesMillis,
                        delayJitterMillis: config.delayJitterMillis,
                        acquireTimeoutSecs: config.acquireTimeoutSecs,
                        maxErrorScore: config.maxErrorScore,
                    },
                    pools: { 'pool-x': { size: 1 } },
                    rules: [{ match: 'https://a.test/pool-x', pool: 'pool-x' }],
                    proxyBackoff: { baseMillis: 1000, maxMillis: 4000, blockedInRow: 2, banAfterBackoffs: 3 },
                    statsIntervalSecs: 0,
                    store: { custom: store, persistOnEvent: false },
                    // Hundreds of managers: none of them should write a crawl report to disk (timeline.test.ts covers it).
                    report: false as const,
                    clock,
                    random: seeded(config.seed),
                    log: quietLog(),
                };
                const manager = await SessionManager.open(options);
                const held: ManagedSession[] = [];
                const failures: unknown[] = [];
                const retiredIds = new Set<string>();
                manager.events.on('sessionRetired', (s: ManagedSession) => retiredIds.add(s.id));

                const checkHandOut = (s: ManagedSession) => {
                    const pool = manager.pools.get(s.poolKey)!;
                    const o = pool.options;
                    expect(s.isRetired).toBe(false);
                    expect(retiredIds.has(s.id)).toBe(false);
                    const availability = manager.health.availability(s.identity.proxy?.id ?? DIRECT_PROXY_ID, s.poolKey);
                    expect(['usable', 'probing']).toContain(availability);
                    expect(s.inUse).toBeLessThanOrEqual(o.maxConcurrentUses);
                    expect(s.usageCount + s.inUse).toBeLessThanOrEqual(o.maxUses);
                    expect(s.isExpired()).toBe(false);
                    expect(s.initializing).toBe(false);
                    expect(s.availableAt).toBeLessThanOrEqual(clock.now());
                    held.push(s);
                };
                const checkPools = () => {
                    for (const pool of manager.pools.values()) {
                        expect(pool.sessions.size).toBeLessThanOrEqual(pool.options.size);
                        for (const s of pool.sessions.values()) {
                            expect(s.isRetired).toBe(false);
                            expect(s.inUse).toBeGreaterThanOrEqual(0);
                        }
                    }
                };

                for (const c of commands) {
                    switch (c.kind) {
                        case 'acquire':
                            manager.acquire({ url: SITES[c.site]! }).then(checkHandOut, (e) => {
                                expect(e).toBeInstanceOf(SessionpackError);
                                failures.push(e);
                            });
                            break;
                        case 'report': {
                            if (held.length === 0) break;
                            const [s] = held.splice(c.index % held.length, 1);
                            const type = OUTCOMES[c.outcome]!;
                            manager.report(s!, {
                                type,
                                retryAfterMillis: type === 'rate-limited' ? c.retryAfter : undefined,
                                reason: c.leak ? `failed via ${config.proxies[0] ?? PROXIES[0]}` : undefined,
                            });
                            break;
                        }
                        case 'verdict': {
                            if (held.length === 0) break;
                            held[c.index % held.length]![c.which]();
                            break;
                        }
                        case 'advance':
                            await clock.advance(c.millis);
                            break;
                    }
                    await clock.advance(0);
                    checkPools();
                }

                assertNoSecrets(JSON.stringify(manager.snapshot()));
                assertNoSecrets(JSON.stringify(manager.stats()));
                for (const e of failures) assertNoSecrets(String((e as Error).message));

                // Persist then open gives back an equivalent state.
                await manager.persist();
                assertNoSecrets(JSON.stringify(store.value));
                const before = manager.snapshot();
                const reopened = await SessionManager.open({ ...options, random: seeded(1) });
                const after = reopened.snapshot();
                // A restored state in which every proxy was blocked on a site starts with one probe per proxy (issue
                // 11): those backoffs end now; everything else comes back as it was.
                const now = clock.now();
                for (const [id, h] of Object.entries(after.health)) {
                    for (const [site, r] of Object.entries(h.sites)) {
                        const was = before.health[id]?.sites[site]?.backoff;
                        if (r.backoff && was && r.backoff.until === now && (was.until ?? 0) > now) r.backoff.until = was.until;
                    }
                }
                expect({ ...after, savedAt: 0 }).toEqual({ ...before, savedAt: 0 });
                for (const pool of reopened.pools.values()) {
                    for (const r of pool.recentlyRetired) expect(reopened.getSession(r.id)).toBeUndefined();
                }
                await reopened.close();
                await manager.close();
                await clock.advance(0);
            }),
            { numRuns: 200, seed: 20_260_101 },
        );
    });
});

describe('AttemptTracker under random crawler flows', () => {
    it('reports every attempt exactly once and never underflows', async () => {
        const { AttemptTracker } = await import('../src/adapter/index.js');
        const step = fc.record({
            request: fc.nat(3),
            action: fc.constantFrom('begin', 'end-ok', 'end-bad', 'end-rate', 'crawlee-good', 'crawlee-bad', 'crawlee-retire', 'advance'),
        });
        await fc.assert(
            fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.integer(), async (steps, seed) => {
                const clock = new ManualClock();
                const manager = await SessionManager.open({
                    store: false,
                    report: false,
                    statsIntervalSecs: 0,
                    clock,
                    random: seeded(seed),
                    log: quietLog(),
                    proxyUrls: PROXIES,
                    pool: { size: 3, maxConcurrentUses: 2, acquireTimeoutSecs: 0 },
                });
                const tracker = new AttemptTracker(manager);
                const requests = [0, 1, 2, 3].map((i) => ({ url: `https://a.test/${i}` }));
                let begun = 0;
                for (const { request, action } of steps) {
                    const r = requests[request]!;
                    const session = tracker.current(r);
                    switch (action) {
                        case 'begin':
                            try {
                                await tracker.begin(r);
                                begun++;
                            } catch (e) {
                                expect(e).toBeInstanceOf(SessionpackError);
                                // The previous attempt was ended as abandoned before the acquire failed.
                            }
                            break;
                        case 'end-ok':
                            tracker.end(r, { type: 'ok' });
                            break;
                        case 'end-bad':
                            tracker.end(r, { type: 'blocked' });
                            break;
                        case 'end-rate':
                            tracker.end(r, { type: 'rate-limited', retryAfterMillis: 100 });
                            break;
                        case 'crawlee-good':
                            session?.markGood();
                            break;
                        case 'crawlee-bad':
                            session?.markBad();
                            break;
                        case 'crawlee-retire':
                            session?.retire();
                            break;
                        case 'advance':
                            await clock.advance(200);
                            break;
                    }
                    for (const pool of manager.pools.values()) for (const s of pool.sessions.values()) expect(s.inUse).toBeGreaterThanOrEqual(0);
                }
                let open = 0;
                for (const r of requests) if (tracker.isOpen(r)) open++;
                const c = manager.stats().totals.counters;
                const reported = c['use/ok'] + c['use/blocked'] + c['use/rate-limited'] + c['use/target-error'];
                expect(reported + open).toBe(begun);
                let inUse = 0;
                for (const pool of manager.pools.values()) for (const s of pool.sessions.values()) inUse += s.inUse;
                expect(inUse).toBeLessThanOrEqual(open);
                await manager.close();
            }),
            { numRuns: 150, seed: 20_260_102 },
        );
    });
});
