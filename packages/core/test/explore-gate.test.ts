/**
 * The explore gate (src/explore-gate.ts): when a pool growing on demand puts a session on a new proxy and when it waits
 * for the sessions it has. The rule on its own (waits, thresholds, monotonicity), then through a real manager on a
 * manual clock: what the pool hands out and which sessions it creates after the site's first uses went badly or well.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ExploreGate, expectedWaitMillis, WASTE_PRICE, type ExploreTarget, type WaitView } from '../src/explore-gate.js';
import type { ManagedSession } from '../src/index.js';
import { openManager, req } from './helpers.js';

const target = (expected: number, gap = 0): ExploreTarget => ({ expected: () => expected, paceGapMillis: () => gap });
const view = (v: Partial<WaitView>): WaitView => ({ held: 0, idle: [], busy: 0, ahead: 0, ...v });

/** A gate that measured uses of `useMillis` since `since`. */
function gateWith(useMillis: number, since = 0, now = since + useMillis): ExploreGate {
    const gate = new ExploreGate();
    gate.used(since, now);
    if (now - since !== useMillis) gate.used(now - useMillis, now);
    return gate;
}

describe('expected wait', () => {
    it('is the soonest session for the first acquirer, and the sessions serve the ones ahead in turn', () => {
        const v = view({ idle: [{ at: 3_000, gap: 2_000 }], busy: 1 });
        // Busy: ready a use (500 ms) from now; then again a use or its pace gap (2 s) later.
        expect(expectedWaitMillis(v, 0, 500, 2_000)).toBe(500);
        expect(expectedWaitMillis({ ...v, ahead: 1 }, 0, 500, 2_000)).toBe(2_500);
        expect(expectedWaitMillis({ ...v, ahead: 2 }, 0, 500, 2_000)).toBe(3_000);
        expect(expectedWaitMillis({ ...v, ahead: 3 }, 0, 500, 2_000)).toBe(4_500);
        // Without a pace a session serves every use.
        expect(expectedWaitMillis(view({ busy: 2, ahead: 3 }), 0, 500)).toBe(1_000);
        expect(expectedWaitMillis(view({}), 0, 500)).toBe(Infinity);
    });
});

describe('the rule', () => {
    it('explores before any use was measured, with nothing to wait for, or with proxies that never fail', () => {
        expect(new ExploreGate().explores(target(0.01), view({ busy: 1 }), 0)).toBe(true);
        expect(gateWith(500).explores(target(0.01), view({}), 500)).toBe(true);
        expect(gateWith(500).explores(target(1), view({ busy: 1 }), 500)).toBe(true);
    });

    it('waits for a busy session where new proxies are often blocked, explores where they mostly serve', () => {
        // One busy session, nobody ahead: the wait is one use, the horizon the crawl's age (one use): a good new
        // session would serve 2 uses. Explore iff 2 (1 - p) >= 3 p: p <= 0.4 (WASTE_PRICE 2).
        expect(WASTE_PRICE).toBe(2);
        const gate = gateWith(500);
        const v = view({ busy: 1 });
        expect(gate.explores(target(0.65), v, 500)).toBe(true);
        expect(gate.explores(target(0.55), v, 500)).toBe(false);
    });

    it('waits for a paced session when a new proxy would be paced too, explores when the wait is long', () => {
        const gate = gateWith(400, 0, 2_000);
        // A session paced until 3 s, every proxy paced at 2.5 s a use (the site's prior): at 2 s a good new session
        // serves 1 + max(1 s, 2 s) / 2.5 s = 1.8 uses; p = 0.35 costs 3 * 0.35 / 0.65 = 1.62: explore; p = 0.4 costs 2.
        const v = view({ held: 1, idle: [{ at: 3_000, gap: 2_500 }] });
        expect(gate.explores(target(0.65, 2_500), v, 2_000)).toBe(true);
        expect(gate.explores(target(0.6, 2_500), v, 2_000)).toBe(false);
        // The same bet with a wait of 8 s (a backlog the pace replays): 1 + 8 / 2.5 = 4.2 uses beat 3 * 0.55 / 0.45 = 3.7.
        expect(gate.explores(target(0.45, 2_500), view({ held: 1, idle: [{ at: 10_000, gap: 2_500 }] }), 2_000)).toBe(true);
        expect(gate.explores(target(0.4, 2_500), view({ held: 1, idle: [{ at: 10_000, gap: 2_500 }] }), 2_000)).toBe(false);
    });

    it('explores more readily for a likelier proxy, a longer wait or more acquirers ahead (property)', () => {
        fc.assert(
            fc.property(
                fc.double({ min: 0, max: 1, noNaN: true }),
                fc.double({ min: 0, max: 1, noNaN: true }),
                fc.integer({ min: 1, max: 5_000 }),
                fc.integer({ min: 0, max: 5_000 }),
                fc.integer({ min: 0, max: 10_000 }),
                fc.integer({ min: 0, max: 4 }),
                fc.integer({ min: 0, max: 4 }),
                (a, b, use, gap, at, busy, ahead) => {
                    const gate = gateWith(use, 0, use);
                    const now = use;
                    const v = view({ idle: [{ at: now + at, gap }], busy, ahead });
                    const [lo, hi] = a < b ? [a, b] : [b, a];
                    if (gate.explores(target(lo, gap), v, now)) expect(gate.explores(target(hi, gap), v, now)).toBe(true);
                    if (gate.explores(target(lo, gap), v, now)) expect(gate.explores(target(lo, gap), { ...v, ahead: ahead + 1 }, now)).toBe(true);
                },
            ),
            { seed: 11, numRuns: 300 },
        );
    });
});

const PROXIES = Array.from({ length: 12 }, (_, i) => `http://127.0.0.${20 + i}:${8100 + i}`);
const URL = 'https://shop.test/';
const USE = 500;

/**
 * A crawl's start on a manual clock: `firsts + 1` sessions on distinct proxies are made at once (no use has ended: the
 * pool has nothing to weigh a wait with) and their first uses judged a use (`USE` ms) later: the first one served, the
 * others served if `good`, else blocked. Returns the manager, the clock and the first session, idle, 1 use into the crawl.
 */
async function afterFirstUses(firsts: number, good: boolean) {
    const { manager, clock } = await openManager({ proxyUrls: PROXIES, pool: { size: 10 } });
    const first = await manager.acquire(req(URL));
    const next: ManagedSession[] = [];
    for (let i = 0; i < firsts; i++) next.push(await manager.acquire(req(URL)));
    expect(new Set([first, ...next].map((s) => s.identity.proxy?.id)).size).toBe(firsts + 1);
    await clock.advance(USE);
    manager.report(first, { type: 'ok' });
    for (const s of next) manager.report(s, good ? { type: 'ok' } : { type: 'blocked', reason: 'captcha' });
    return { manager, clock, first };
}

const created = (manager: { stats(): { pools: Record<string, { counters: Record<string, number> } | undefined> } }) =>
    manager.stats().pools['shop.test']!.counters['session/created'];

/** Whether `p` settled (resolved or rejected) after the pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
    let done = false;
    p.then(
        () => void (done = true),
        () => void (done = true),
    );
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return done;
}

describe('a pool growing on demand, on a manual clock', () => {
    it('after new proxies were blocked on their first use, waits for its busy session instead of trying another', async () => {
        const { manager, clock, first } = await afterFirstUses(4, false);
        const proxiesBefore = new Set([...manager.pools.get('shop.test')!.sessions.values()].map((s) => s.identity.proxy?.id));
        const busy = await manager.acquire(req(URL));
        expect(busy).toBe(first);
        // 1 served, 4 blocked first uses: a new proxy is blocked with chance 0.64 (the site's base rate, shrunk), costing
        // 3 * 0.64 / 0.36 = 5.4 uses; a good one would serve 1 + max(wait 0.5 s, age 0.5 s) / 0.5 s = 2 in the horizon.
        const waiting = manager.acquire(req(URL));
        expect(await settled(waiting)).toBe(false);
        // The busy use ends within the expected wait (a use).
        await clock.advance(USE - 100);
        expect(await settled(waiting)).toBe(false);
        manager.report(busy, { type: 'ok' });
        // The waiter gets the session that served, and the pool made no session on a new proxy.
        expect(await waiting).toBe(first);
        const proxiesAfter = new Set([...manager.pools.get('shop.test')!.sessions.values()].map((s) => s.identity.proxy?.id));
        expect(proxiesAfter).toEqual(proxiesBefore);
        expect(created(manager)).toBe(5);
        await manager.close();
    });

    it('looks again when the wait it expected is over: a use that takes long does not hold the waiter', async () => {
        const { manager, clock, first } = await afterFirstUses(4, false);
        const busy = await manager.acquire(req(URL));
        expect(busy).toBe(first);
        const waiting = manager.acquire(req(URL));
        expect(await settled(waiting)).toBe(false);
        // The busy use is not reported. The waiter looks again each time the wait it expected (a use) is over; the
        // crawl ages: at 2 s a good new session would serve 1 + 2 s / 0.5 s = 5 uses, less than the 5.4 a likely block
        // costs; at 2.5 s, 6.
        for (let i = 0; i < 3; i++) {
            await clock.advance(USE);
            expect(await settled(waiting)).toBe(false);
        }
        await clock.advance(USE);
        expect(await settled(waiting)).toBe(true);
        const s = await waiting;
        expect(s).not.toBe(first);
        expect(s.identity.proxy?.id).not.toBe(first.identity.proxy?.id);
        expect(created(manager)).toBe(6);
        manager.report(busy, { type: 'ok' });
        manager.report(s, { type: 'ok' });
        await manager.close();
    });

    it('after new proxies served on their first use, makes a session on another one when its sessions are busy', async () => {
        const { manager, first } = await afterFirstUses(4, true);
        const busy: ManagedSession[] = [];
        for (let i = 0; i < 5; i++) busy.push(await manager.acquire(req(URL)));
        expect(busy).toContain(first);
        expect(new Set(busy).size).toBe(5);
        // Every session busy, new proxies served 5 of 5 times: the next acquire explores at once.
        const next = manager.acquire(req(URL));
        expect(await settled(next)).toBe(true);
        const s = await next;
        expect(busy).not.toContain(s);
        expect(new Set([...busy, s].map((x) => x.identity.proxy?.id)).size).toBe(6);
        expect(created(manager)).toBe(6);
        await manager.close();
    });
});
