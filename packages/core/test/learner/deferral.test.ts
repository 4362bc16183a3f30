/**
 * Putting off re-probes after a failed one (learner/deferral.ts) and its bounds: on a farm whose bans outlast the first
 * backoff it saves most second blocks; on a site that blocks at random it must never starve the pool. Explicit time,
 * seeded random (the manager's loop on a ManualClock).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ManualClock, type SessionManager } from '../../src/index.js';
import { Learner, type UseContext } from '../../src/learner/learner.js';
import { openManager, seeded } from '../helpers.js';

const SITE = 'shop.test';

function use(proxyId: string, sessionId: string, goodUses = 0): UseContext {
    return { site: SITE, proxyId, sessionId, goodUses };
}

describe('Learner: deferred re-probes, bounded', () => {
    it('puts off at most half of the judged proxies of the site at once; the others keep their own schedule', () => {
        const l = new Learner({ backoff: { jitter: 0 } }, seeded(7));
        let t = 0;
        // 6 proxies judged on the site: g serves, a-e (each served once before: burnt, not on a ban list) are blocked at
        // their next use 1 s apart.
        const blocked = ['a', 'b', 'c', 'd', 'e'];
        for (const p of blocked) l.onOutcome(use(p, `${p}0`), { kind: 'ok' }, t);
        t += 1_000;
        for (const p of blocked) {
            for (let i = 0; i < 10; i++) l.onOutcome(use('g', `g${t + i}`, i), { kind: 'ok' }, t + i);
            expect(l.onOutcome(use(p, `${p}1`), { kind: 'blocked' }, t + 10).backoff).toMatchObject({ level: 1 });
            t += 1_000;
        }
        // a's probe at 5 s fails: of b-e, 3 (half of 6) are put off, one keeps its deadline.
        const aProbe = l.backoffUntil('a', SITE);
        const due = Object.fromEntries(blocked.map((p) => [p, l.backoffUntil(p, SITE)]));
        l.onSend(use('a', 'a2'), aProbe);
        const failed = l.onOutcome(use('a', 'a2'), { kind: 'blocked' }, aProbe + 1);
        expect(failed.deferred).toHaveLength(3);
        const kept = blocked.filter((p) => p !== 'a' && !failed.deferred!.includes(p));
        expect(kept).toHaveLength(1);
        expect(l.backoffUntil(kept[0]!, SITE)).toBe(due[kept[0]!]);
        for (const p of failed.deferred!) expect(l.backoffUntil(p, SITE)).toBeGreaterThan(due[p]! + 5_000);
        // The one left out fails its own probe too: the budget is spent, nothing more is put off.
        const k = kept[0]!;
        l.onSend(use(k, `${k}2`), due[k]!);
        const again = l.onOutcome(use(k, `${k}2`), { kind: 'blocked' }, due[k]! + 1);
        expect(again.backoff).toMatchObject({ level: 2 });
        expect(again.deferred).toBeUndefined();
        expect(l.counts.deferredProbes).toBe(3);
        // The put-off proxies are probed at their new deadline, and a pass clears them.
        for (const p of failed.deferred!) {
            const at = l.backoffUntil(p, SITE);
            expect(l.availability(p, SITE, at - 1)).toBe('backoff');
            expect(l.availability(p, SITE, at)).toBe('probe');
            l.onSend(use(p, `${p}2`), at);
            l.onOutcome(use(p, `${p}2`), { kind: 'ok' }, at + 1);
            expect(l.backoffLevel(p, SITE)).toBe(0);
        }
    });

    it('learns no recovery time from a put-off probe, and counts a probe served late at its due time', () => {
        const l = new Learner({ backoff: { jitter: 0 } }, seeded(8));
        // Served 55 s after their 5 s probe was due (the policy preferred others): the estimate is 2.5 s, not 30 s.
        for (const p of ['a', 'b', 'c']) {
            l.onOutcome(use('g', `g-${p}`, 3), { kind: 'ok' }, 0);
            l.onOutcome(use(p, `${p}1`), { kind: 'blocked' }, 0);
            l.onSend(use(p, `${p}2`), 60_000);
            l.onOutcome(use(p, `${p}2`), { kind: 'ok' }, 60_000);
        }
        expect(l.firstBackoffMillis(SITE)).toBe(5_000);
        // b, c, d blocked together; b's probe fails and c, d are put off to 15 s; they pass there. Their recovery is
        // unknown (nobody looked at 5 s), so the first backoff stays where it was.
        const t = 100_000;
        for (const p of ['b', 'c', 'd']) l.onOutcome(use(p, `${p}3`), { kind: 'blocked' }, t);
        l.onSend(use('b', 'b4'), t + 5_000);
        expect(l.onOutcome(use('b', 'b4'), { kind: 'blocked' }, t + 5_000).deferred).toEqual(['c', 'd']);
        for (const p of ['c', 'd']) {
            const at = l.backoffUntil(p, SITE);
            expect(at).toBe(t + 15_000);
            l.onSend(use(p, `${p}4`), at);
            l.onOutcome(use(p, `${p}4`), { kind: 'ok' }, at);
        }
        expect(l.firstBackoffMillis(SITE)).toBe(5_000);
    });

    it('on a farm whose bans outlast the first backoff, saves most second blocks, and every proxy comes back', () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 4, max: 16 }), fc.integer({ min: 7_000, max: 10_000 }), (seed, n, recovery) => {
                const random = seeded(seed);
                const l = new Learner({}, random);
                const good = Array.from({ length: 20 }, (_, i) => `g${i}`);
                const banned = Array.from({ length: n }, (_, i) => `b${i}`);
                const blockedAt = new Map<string, number>();
                let t = 0;
                let sessions = 0;
                const serve = () => {
                    const g = good[sessions % good.length]!;
                    l.onOutcome(use(g, `s${++sessions}`, 5), { kind: 'ok' }, t);
                };
                // The banned proxies are met in the first second, between good pages.
                for (const b of banned) {
                    for (let i = 0; i < 3; i++) serve();
                    t += Math.floor(1_000 / n);
                    blockedAt.set(b, t);
                    l.onOutcome(use(b, `s${++sessions}`), { kind: 'blocked' }, t);
                }
                // Every proxy is probed as soon as it may be; a banned one passes once `recovery` ms past its block.
                let failedProbes = 0;
                while (t < 120_000 && banned.some((b) => l.backoffLevel(b, SITE) > 0)) {
                    t += 100;
                    serve();
                    for (const b of banned) {
                        if (l.availability(b, SITE, t) !== 'probe') continue;
                        const ctx = use(b, `s${++sessions}`);
                        l.onSend(ctx, t);
                        const ok = t >= blockedAt.get(b)! + recovery;
                        if (!ok) failedProbes++;
                        l.onOutcome(ctx, { kind: ok ? 'ok' : 'blocked' }, t);
                    }
                }
                for (const b of banned) expect(l.availability(b, SITE, t)).toBe('usable');
                // Without deferrals every banned proxy fails its first probe (at 4-6 s, before it recovers): n.
                expect(l.counts.deferredProbes).toBeGreaterThan(0);
                expect(failedProbes).toBeLessThanOrEqual(n / 2);
            }),
            { seed: 11, numRuns: 40 },
        );
    });
});

/** acquire on a manual clock: when it waits (every proxy in backoff), the clock moves on until it returns or throws. */
async function acquireOn(manager: SessionManager, clock: ManualClock, request: { url: string }) {
    const p = manager.acquire(request);
    let done = false;
    p.then(
        () => (done = true),
        () => (done = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    while (!done) await clock.advance(1_000);
    return p;
}

describe('SessionManager: a site that blocks 1 use in 10 at random on every proxy', () => {
    it(
        'never locks the pool out: every acquire returns, deferrals stay bounded, the first backoff stays near its base',
        async () => {
            await fc.assert(
                fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
                    const clock = new ManualClock();
                    const { manager } = await openManager({
                        clock,
                        random: seeded(seed),
                        proxyUrls: Array.from({ length: 20 }, (_, i) => `http://127.0.0.1:${20_000 + i}`),
                        pool: { size: 50 },
                        report: false,
                    });
                    const blocks = seeded(seed ^ 0x5eed);
                    const learner = manager.health.learner;
                    const request = { url: `http://${SITE}/product/1` };
                    let maxFirstBackoff = 0;
                    try {
                        for (let i = 0; i < 3_000; i++) {
                            const s = await acquireOn(manager, clock, request);
                            manager.report(s, blocks() < 0.1 ? { type: 'blocked', reason: 'random' } : { type: 'ok' }, request);
                            if (i % 100 === 99) await clock.advance(1_000);
                            maxFirstBackoff = Math.max(maxFirstBackoff, learner.firstBackoffMillis(SITE));
                        }
                        expect(learner.counts.deferredProbes).toBeGreaterThan(0);
                        expect(maxFirstBackoff).toBeLessThanOrEqual(4 * 5_000);
                        expect(manager.stats().totals.counters['use/ok']).toBeGreaterThan(2_500);
                    } finally {
                        await manager.close();
                    }
                }),
                { seed: 12, numRuns: 6 },
            );
        },
        60_000,
    );
});
