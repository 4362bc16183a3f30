/**
 * Property tests of the scheduler's readiness index against the old full scan (test/scheduler-oracle.ts): over random
 * sequences of acquires, reports, Crawlee verdicts, restores and time, every decision matches the oracle's (same
 * session, same proxy for a new one, same "wait"), and random picks are drawn from exactly the oracle's candidates
 * with the same (uniform) distribution.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DIRECT_PROXY_ID, ManualClock, proxyIdOf, SessionManager, type ManagedSession, type OutcomeType, type PolicyName } from '../src/index.js';
import { PROXIES, quietLog, seeded } from './helpers.js';
import { oracleDecide } from './scheduler-oracle.js';

const OUTCOMES: OutcomeType[] = ['ok', 'ok', 'ok', 'blocked', 'rate-limited', 'proxy-failure', 'target-error', 'handler-error'];
const URL = 'https://a.test/';

type Command =
    | { kind: 'acquire' }
    | { kind: 'report'; index: number; outcome: number; retryAfter: number }
    | { kind: 'markBad'; index: number }
    | { kind: 'advance'; millis: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
    { weight: 5, arbitrary: fc.constant({ kind: 'acquire' as const }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('report' as const), index: fc.nat(30), outcome: fc.nat(OUTCOMES.length - 1), retryAfter: fc.integer({ min: 0, max: 3000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('markBad' as const), index: fc.nat(30) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), millis: fc.integer({ min: 1, max: 6000 }) }) },
);

const configArb = fc.record({
    size: fc.integer({ min: 1, max: 6 }),
    maxUses: fc.integer({ min: 1, max: 8 }),
    maxConcurrentUses: fc.integer({ min: 1, max: 3 }),
    maxAgeSecs: fc.integer({ min: 2, max: 40 }),
    minDelayBetweenUsesMillis: fc.integer({ min: 0, max: 1500 }),
    maxErrorScore: fc.integer({ min: 1, max: 3 }),
    // Not 'scored': the learner's scores are Thompson draws (its choices are tested in test/learner/).
    policy: fc.constantFrom<PolicyName>('round-robin', 'use-until-failure'),
    proxies: fc.subarray([...PROXIES, null], { minLength: 1 }),
    seed: fc.integer(),
});

type Config = { size: number; maxUses: number; maxConcurrentUses: number; maxAgeSecs: number; minDelayBetweenUsesMillis: number; maxErrorScore: number; policy: PolicyName; proxies: (string | null)[] };

async function open(c: Config, clock: ManualClock, explorationRate: number, random: () => number) {
    return SessionManager.open({
        proxyUrls: c.proxies,
        policy: c.policy,
        pool: {
            size: c.size,
            maxUses: c.maxUses,
            maxConcurrentUses: c.maxConcurrentUses,
            maxAgeSecs: c.maxAgeSecs,
            minDelayBetweenUsesMillis: c.minDelayBetweenUsesMillis,
            maxErrorScore: c.maxErrorScore,
            acquireTimeoutSecs: 0,
            explorationRate,
        },
        proxyBackoff: { baseMillis: 1000, maxMillis: 4000, blockedInRow: 2, banAfterBackoffs: 3 },
        statsIntervalSecs: 0,
        store: false,
        clock,
        random,
        log: quietLog(),
    });
}

const fixedIds = (proxies: (string | null)[]) => proxies.map((p) => (p ? proxyIdOf(p) : DIRECT_PROXY_ID));

describe('scheduler vs the old full scan', () => {
    it('makes the same decision on every acquire (deterministic policies)', async () => {
        const seen = { session: 0, create: 0, wait: 0 };
        await fc.assert(
            fc.asyncProperty(configArb, fc.array(commandArb, { minLength: 20, maxLength: 80 }), async (config, commands) => {
                const clock = new ManualClock();
                const manager = await open(config, clock, 0, seeded(config.seed));
                const ids = fixedIds(config.proxies);
                const held: ManagedSession[] = [];
                for (const c of commands) {
                    if (c.kind === 'acquire') {
                        const pool = manager.pools.get('a.test');
                        if (pool) {
                            const now = clock.now();
                            const want = oracleDecide(pool, manager.health, now, ids);
                            const got = pool.scheduler.decide(now);
                            seen[got.kind]++;
                            expect(got.kind).toBe(want.kind);
                            if (got.kind === 'session' && want.kind === 'session') expect(got.session.id).toBe(want.pick!.id);
                            if (got.kind === 'create' && want.kind === 'create') {
                                expect(got.proxyId).toBe(want.proxyId);
                                expect(got.evict !== undefined).toBe(want.evicts);
                            }
                        }
                        await manager.acquire({ url: URL }).then(
                            (s) => void held.push(s),
                            () => undefined,
                        );
                    } else if (c.kind === 'report' && held.length > 0) {
                        const [s] = held.splice(c.index % held.length, 1);
                        const type = OUTCOMES[c.outcome]!;
                        manager.report(s!, { type, retryAfterMillis: type === 'rate-limited' ? c.retryAfter : undefined });
                    } else if (c.kind === 'markBad' && held.length > 0) {
                        held[c.index % held.length]!.markBad();
                    } else if (c.kind === 'advance') await clock.advance(c.millis);
                }
                await manager.close();
            }),
            { numRuns: 300, seed: 4242 },
        );
        // The runs compared many decisions of each kind (a test that compared nothing would prove nothing).
        expect(seen.session).toBeGreaterThan(500);
        expect(seen.create).toBeGreaterThan(500);
        expect(seen.wait).toBeGreaterThan(100);
    });

    it('random picks come from exactly the oracle candidates, uniformly', async () => {
        await fc.assert(
            fc.asyncProperty(configArb, fc.array(commandArb, { minLength: 10, maxLength: 40 }), async (config, commands) => {
                const clock = new ManualClock();
                let random = seeded(config.seed);
                const manager = await open({ ...config, policy: 'random' }, clock, 0, () => random());
                const ids = fixedIds(config.proxies);
                const held: ManagedSession[] = [];
                for (const c of commands) {
                    if (c.kind === 'acquire') await manager.acquire({ url: URL }).then((s) => void held.push(s), () => undefined);
                    else if (c.kind === 'report' && held.length > 0) manager.report(held.splice(c.index % held.length, 1)[0]!, { type: OUTCOMES[c.outcome]! });
                    else if (c.kind === 'advance') await clock.advance(c.millis);
                }
                const pool = manager.pools.get('a.test');
                if (!pool) return;
                const now = clock.now();
                const want = oracleDecide(pool, manager.health, now, ids);
                if (want.kind !== 'session') return;
                // A fixed random stream, many draws from the frozen state: every candidate, nothing else, about as often.
                random = seeded(7);
                const counts = new Map<string, number>();
                const draws = 200 * want.candidates.length;
                for (let i = 0; i < draws; i++) {
                    const d = pool.scheduler.decide(now);
                    expect(d.kind).toBe('session');
                    if (d.kind === 'session') counts.set(d.session.id, (counts.get(d.session.id) ?? 0) + 1);
                }
                expect([...counts.keys()].sort()).toEqual(want.candidates.map((s) => s.id).sort());
                for (const n of counts.values()) expect(Math.abs(n - 200)).toBeLessThan(200 * 0.5);
                await manager.close();
            }),
            { numRuns: 150, seed: 4343 },
        );
    });
});
