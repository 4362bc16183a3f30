/**
 * The learner as the scheduler and the outcome table will use it: blame, site-wide blocks, probes, pace, cap, gateway
 * sessions and restored state. Pure logic on explicit time, seeded random.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Learner, reopenedMessage, type UseContext } from '../../src/learner/learner.js';
import { seeded } from '../helpers.js';

const SITE = 'shop.test';

function use(proxyId: string, sessionId: string, goodUses: number, extra: Partial<UseContext> = {}): UseContext {
    return { site: SITE, proxyId, sessionId, goodUses, ...extra };
}

describe('Learner: blame', () => {
    it('backs a proxy off at once when a fresh session is blocked, and probes it once when the backoff ends', () => {
        const l = new Learner({}, seeded(1));
        l.onSend(use('p', 's1', 0), 0);
        const e = l.onOutcome(use('p', 's1', 0), { kind: 'blocked' }, 100);
        expect(e).toMatchObject({ blame: 'proxy', retireSession: true, backoff: { scope: 'site', level: 1, banned: false } });
        expect(l.availability('p', SITE, 200)).toBe('backoff');
        expect(l.availability('p', 'other.test', 200)).toBe('usable');
        const at = e.backoff!.until;
        expect(at - 100).toBeGreaterThanOrEqual(4000);
        expect(at - 100).toBeLessThanOrEqual(6000);
        expect(l.availability('p', SITE, at)).toBe('probe');
        l.onSend(use('p', 's2', 0), at);
        expect(l.availability('p', SITE, at)).toBe('probing');
        l.onOutcome(use('p', 's2', 0), { kind: 'ok' }, at + 10);
        expect(l.availability('p', SITE, at + 10)).toBe('usable');
    });

    it('blames an init block on the proxy, and an ambiguous late block too (a proxy that burns costs one block)', () => {
        const l = new Learner({}, seeded(1));
        expect(l.onOutcome(use('p', 's1', 0, { duringInit: true }), { kind: 'blocked' }, 0).blame).toBe('proxy');
        expect(l.onOutcome(use('q', 's2', 30), { kind: 'blocked' }, 0)).toMatchObject({ blame: 'proxy', retireSession: true });
        expect(l.availability('q', SITE, 1)).toBe('backoff');
    });

    it('blames the session after many good uses while another session on the proxy passes: the proxy stays usable', () => {
        const l = new Learner({}, seeded(1));
        l.onOutcome(use('p', 'other', 4), { kind: 'ok' }, 1000);
        const e = l.onOutcome(use('p', 's1', 20), { kind: 'blocked' }, 2000);
        expect(e).toMatchObject({ blame: 'session', retireSession: true });
        expect(e.backoff).toBeUndefined();
        expect(l.availability('p', SITE, 2001)).toBe('usable');
    });

    it('once a cap is learnt, blames a block well before it on the proxy even with a passing sibling (the IP burnt)', () => {
        const l = new Learner({}, seeded(1));
        // Three sessions on three proxies blocked at 25 uses: a cap of 25.
        for (const [i, p] of ['a', 'b', 'c'].entries()) l.onOutcome(use(p, `capped${i}`, 25), { kind: 'blocked' }, 1000 * i);
        expect(l.cap(SITE, 3000)).toBe(25);
        l.onOutcome(use('p', 'other', 10), { kind: 'ok' }, 4000);
        const burnt = l.onOutcome(use('p', 's1', 12), { kind: 'blocked' }, 4500);
        expect(burnt).toMatchObject({ blame: 'proxy', retireSession: true });
        expect(l.availability('p', SITE, 4501)).toBe('backoff');
        // Near the cap it is still the session's.
        l.onOutcome(use('q', 'other2', 10), { kind: 'ok' }, 5000);
        expect(l.onOutcome(use('q', 's2', 23), { kind: 'blocked' }, 5500).blame).toBe('session');
    });

    it('learns a cap from sessions blocked after the same number of uses, and shows it per pool', () => {
        const l = new Learner({}, seeded(1));
        for (let i = 0; i < 3; i++) l.onOutcome(use(`p${i}`, `s${i}`, 25), { kind: 'blocked' }, i);
        expect(l.cap(SITE, 10)).toBe(25);
        expect(l.cap('elsewhere', 10)).toBeUndefined();
    });
});

describe('Learner: site-wide blocks', () => {
    it('pauses the pool, charges no proxy (undoing the backoffs of the episode) and stops when it persists', () => {
        const l = new Learner({ siteWide: { minProxies: 5, stopAfterMillis: 30_000 } }, seeded(2));
        // The check refuses pages the classifier found fine: credible evidence against the check (or the site).
        const effects = [0, 1, 2, 3, 4].map((i) => l.onOutcome(use(`p${i}`, `s${i}`, 0), { kind: 'blocked', checkFailed: true }, 10 * i));
        expect(effects.slice(0, 4).map((e) => e.blame)).toEqual(['proxy', 'proxy', 'proxy', 'proxy']);
        expect(effects[4]).toMatchObject({ blame: 'site', retireSession: false });
        expect(effects[4]!.pausePoolUntil).toBe(40 + 2000);
        expect(effects[4]!.message).toMatch(/every proxy was blocked on shop\.test/);
        // Suspected, not confirmed: the first four stay backed off until a second pause confirms the episode.
        expect(l.availability('p0', SITE, 50)).toBe('backoff');
        expect(l.availability('p4', SITE, 50)).toBe('usable');
        expect(l.pausedUntil(SITE)).toBe(2040);
        const confirmed = l.onOutcome(use('p1', 'late', 0), { kind: 'blocked', checkFailed: true }, 2100);
        expect(confirmed.pausePoolUntil).toBe(2100 + 4000);
        for (let i = 0; i < 5; i++) expect(l.availability(`p${i}`, SITE, 2100)).toBe('usable');
        let stop: string | undefined;
        for (let t = 2100, i = 0; !stop && t < 60_000; t += 500, i++) stop = l.onOutcome(use(`p${i % 5}`, `x${t}`, 0), { kind: 'blocked', checkFailed: true }, t).stop;
        expect(stop).toMatch(/the site may be down or the check may be wrong/);
        expect(l.toJSON().backoffs).toEqual({});
    });

    it('is not fooled by a world where 70% of proxies are banned: good ones keep passing', () => {
        fc.assert(
            fc.property(fc.integer(), (seed) => {
                const random = seeded(seed);
                const l = new Learner({}, random);
                const banned = (p: number) => p % 10 < 7;
                let pauses = 0;
                for (let t = 0; t < 400; t++) {
                    const p = Math.floor(random() * 100);
                    if (l.availability(`p${p}`, SITE, t * 20) !== 'usable') continue;
                    const e = l.onOutcome(use(`p${p}`, `s${t}`, 0), { kind: banned(p) ? 'blocked' : 'ok' }, t * 20);
                    if (e.pausePoolUntil) pauses++;
                    expect(e.stop).toBeUndefined();
                }
                // A run of banned proxies can look site-wide for a moment; it costs a short pause, never a stop.
                expect(pauses).toBeLessThanOrEqual(3);
            }),
            { seed: 9, numRuns: 30 },
        );
    }, 30_000);
});

describe('Learner: gateways and pace', () => {
    it('retires a gateway session that keeps getting 429s; a fixed proxy session is paced instead', () => {
        const l = new Learner({}, seeded(1));
        const g = use('gw-s1', 's1', 3, { dynamicProxy: true });
        expect(l.onOutcome(g, { kind: 'rate-limited', retryAfterMillis: 2000 }, 0).retireSession).toBe(false);
        const e = l.onOutcome(g, { kind: 'rate-limited', retryAfterMillis: 2000 }, 2100);
        expect(e.retireSession).toBe(true);
        expect(e.message).toMatch(/new session id/);
        const f = use('p', 's2', 3);
        for (let t = 0; t < 5; t++) l.onSend(f, t * 100);
        expect(l.onOutcome(f, { kind: 'rate-limited', retryAfterMillis: 2000 }, 500).retireSession).toBe(false);
        expect(l.onOutcome(f, { kind: 'rate-limited', retryAfterMillis: 2000 }, 600).retireSession).toBe(false);
        expect(l.readyAt('p', SITE, 700)).toBe(2600);
    });

    it("reads a gateway session's burst cautiously: its exit may carry other session ids' uses", () => {
        const l = new Learner({}, seeded(1));
        const g = use('gw-s1', 's1', 10, { dynamicProxy: true });
        const f = use('p', 's2', 10);
        // Both burst 11 uses in a second; the 11th is limited: 10 allowed.
        for (let t = 0; t < 11; t++) {
            l.onSend(g, t * 100);
            l.onSend(f, t * 100);
        }
        l.onOutcome(g, { kind: 'rate-limited', retryAfterMillis: 2000 }, 1000);
        l.onOutcome(f, { kind: 'rate-limited', retryAfterMillis: 2000 }, 1000);
        // The fixed proxy: 0.8 x the 10 per second it sent; the gateway session: 0.8 x 10 per 10 s.
        expect(l.pace.rate('p', SITE, 1000)).toBeCloseTo(8, 6);
        expect(l.pace.rate('gw-s1', SITE, 1000)).toBeCloseTo(0.8, 6);
    });

    it('re-rolls a gateway session limited at its only use in the last second (its exit is shared); a busy one learns a pace first', () => {
        const l = new Learner({}, seeded(1));
        const lone = use('gw-s1', 's1', 4, { dynamicProxy: true });
        l.onSend(lone, 0);
        l.onSend(lone, 5_000);
        const e = l.onOutcome(lone, { kind: 'rate-limited', retryAfterMillis: 2000 }, 5_050);
        expect(e.retireSession).toBe(true);
        expect(e.message).toMatch(/exit is shared/);
        const busy = use('gw-s2', 's2', 4, { dynamicProxy: true });
        for (const t of [5_000, 5_300, 5_600]) l.onSend(busy, t);
        expect(l.onOutcome(busy, { kind: 'rate-limited', retryAfterMillis: 2000 }, 5_650).retireSession).toBe(false);
        // A fixed proxy is never re-rolled for it.
        const fixed = use('p', 's3', 4);
        l.onSend(fixed, 5_000);
        expect(l.onOutcome(fixed, { kind: 'rate-limited', retryAfterMillis: 2000 }, 5_050).retireSession).toBe(false);
    });

    it("waits out a gateway session's Retry-After twice over (its exit is shared), a fixed proxy's once", () => {
        const l = new Learner({}, seeded(1));
        l.onOutcome(use('gw-s1', 's1', 3, { dynamicProxy: true }), { kind: 'rate-limited', retryAfterMillis: 2000 }, 1000);
        expect(l.readyAt('gw-s1', SITE, 1100)).toBe(5000);
        l.onOutcome(use('p', 's2', 3), { kind: 'rate-limited', retryAfterMillis: 2000 }, 1000);
        expect(l.readyAt('p', SITE, 1100)).toBe(3000);
        const once = new Learner({ gatewayRetryAfterFactor: 1 }, seeded(1));
        once.onOutcome(use('gw-s1', 's1', 3, { dynamicProxy: true }), { kind: 'rate-limited', retryAfterMillis: 2000 }, 1000);
        expect(once.readyAt('gw-s1', SITE, 1100)).toBe(3000);
    });

    it('backs a proxy off everywhere on a proxy failure', () => {
        const l = new Learner({}, seeded(1));
        expect(l.onOutcome(use('p', 's', 2), { kind: 'proxy-failure' }, 0)).toMatchObject({ retireSession: true, backoff: { scope: 'global' } });
        expect(l.availability('p', 'anywhere.test', 1)).toBe('backoff');
    });
});

describe('Learner: state from the store', () => {
    it('keeps deadlines across a snapshot, and reopens a pool whose every proxy is banned with one probe each', () => {
        const l = new Learner({}, seeded(1));
        let t = 0;
        // b's seven bans end long after the restore; a's seventh (about 2 h) too. Both served the site once before.
        for (const p of ['a', 'b']) l.onOutcome(use(p, `${p}ok`, 0), { kind: 'ok' }, t++);
        for (const p of ['a', 'b']) {
            for (let i = 0; i < 7; i++) {
                const e = l.onOutcome(use(p, `${p}${i}`, 0), { kind: 'blocked' }, t);
                if (i < 6) t = e.backoff!.until + 1;
            }
        }
        t += 1;
        const stored = JSON.parse(JSON.stringify(l.toJSON()));
        expect(JSON.stringify(stored)).not.toMatch(/http/);
        const kept = new Learner({}, seeded(2));
        expect(kept.restore(stored, t, ['a', 'b', 'c'])).toEqual([]);
        expect(kept.availability('a', SITE, t)).toBe('banned');
        const reopened = new Learner({}, seeded(3));
        expect(reopened.restore(stored, t, ['a', 'b'])).toEqual([{ site: SITE, reopened: 2 }]);
        expect(reopened.availability('a', SITE, t)).toBe('probe');
        reopened.onSend(use('a', 'n1', 0), t);
        expect(reopened.availability('a', SITE, t)).toBe('probing');
        // A failed probe backs it off again, further.
        const e = reopened.onOutcome(use('a', 'n1', 0), { kind: 'blocked' }, t + 1);
        expect(e.backoff!.level).toBe(8);
        expect(reopenedMessage(SITE, 2, 'key SESSIONPACK_STATE')).toMatch(/^state from the store had all 2 proxies banned or backed off on shop\.test.*clear the stored state \(key SESSIONPACK_STATE\)/);
    });
});

describe('learner options', () => {
    it('accepts every documented knob and names a wrong one', async () => {
        const ow = (await import('ow')).default;
        const { learnerShape } = await import('../../src/learner/options.js');
        const check = (value: unknown) => ow(value, 'learner', learnerShape as never);
        expect(() => check(undefined)).not.toThrow();
        expect(() =>
            check({ health: { halfLifeMillis: 1000 }, siteWide: { stopAfterMillis: 5000, minProxies: 3 }, pace: { decrease: 0.5 }, cap: { minCap: 3 }, tiers: { blockedToMoveUp: 2 }, manyGoodUses: 4 }),
        ).not.toThrow();
        expect(() => check({ siteWide: { pauseMilis: 5 } })).toThrow(/pauseMilis/);
        expect(() => check({ pace: { decrease: 2 } })).toThrow(/decrease/);
        expect(() => check({ cap: { minCap: 0 } })).toThrow(/minCap/);
    });
});

describe('Learner: learned recovery time', () => {
    it('raises the first backoff on a site to about the time its proxies take to recover', () => {
        const l = new Learner({}, seeded(4));
        // Proxies recover 8 s after their block: a 5 s probe fails, the next one passes. Each served once before (it
        // burnt); proxies that never served the site teach nothing (below).
        let t = 0;
        for (const p of ['a', 'b', 'c']) {
            l.onOutcome(use(p, `${p}0`, 0), { kind: 'ok' }, t);
            t += 1;
            const first = l.onOutcome(use(p, `${p}1`, 0), { kind: 'blocked' }, t);
            const probe1 = first.backoff!.until;
            const second = l.onOutcome(use(p, `${p}2`, 0), { kind: 'blocked' }, probe1);
            l.onOutcome(use(p, `${p}3`, 0), { kind: 'ok' }, second.backoff!.until);
            expect(second.backoff!.until - t).toBeGreaterThan(8_000);
            t += 60_000;
        }
        expect(l.firstBackoffMillis(SITE)).toBeGreaterThan(8_000);
        expect(l.firstBackoffMillis('elsewhere.test')).toBe(5_000);
        const next = l.onOutcome(use('d', 'd1', 0), { kind: 'blocked' }, t);
        expect(next.backoff!.until - t).toBeGreaterThan(0.8 * 8_000);
    });
    it('probes a proxy that never served the site 8x apart, bans it at its third block, and learns no recovery time from it', () => {
        const l = new Learner({ backoff: { jitter: 0 } }, seeded(6));
        let t = 0;
        // n never served: blocked at its first use, at its 5 s probe, at its 40 s probe (banned: 2 h), then it serves.
        const levels: number[] = [];
        const delays: number[] = [];
        for (let i = 0; i < 3; i++) {
            const e = l.onOutcome(use('n', `n${i}`, 0), { kind: 'blocked' }, t);
            levels.push(e.backoff!.level);
            delays.push(e.backoff!.until - t);
            t = e.backoff!.until;
        }
        expect(levels).toEqual([1, 4, 7]);
        expect(delays).toEqual([5_000, 40_000, 7_200_000]);
        expect(l.availability('n', SITE, t - 1)).toBe('banned');
        expect(l.availability('n', SITE, t)).toBe('probe');
        l.onOutcome(use('n', 'n3', 0), { kind: 'ok' }, t);
        expect(l.backoffLevel('n', SITE)).toBe(0);
        // Twice over: still no recovery time learned (the first backoff stays the configured one).
        const m = l.onOutcome(use('m', 'm0', 0), { kind: 'blocked' }, t);
        const m2 = l.onOutcome(use('m', 'm1', 0), { kind: 'blocked' }, m.backoff!.until);
        l.onOutcome(use('m', 'm2', 0), { kind: 'ok' }, m2.backoff!.until);
        expect(l.firstBackoffMillis(SITE)).toBe(5_000);
        // Now n has served: its next episode is a burn, on the plain schedule (5 s, then 10 s).
        t = m2.backoff!.until + 1;
        const b1 = l.onOutcome(use('n', 'n3', 1), { kind: 'blocked' }, t);
        const b2 = l.onOutcome(use('n', 'n5', 0), { kind: 'blocked' }, b1.backoff!.until);
        expect([b1.backoff!.level, b2.backoff!.level]).toEqual([1, 2]);
        expect(b2.backoff!.until - b1.backoff!.until).toBe(10_000);
    });
    it("puts off the probes of proxies at the same backoff step on the site when one's probe fails, and nothing more", () => {
        const l = new Learner({ backoff: { jitter: 0 } }, seeded(5));
        // Good proxies keep passing (the blocks are not site-wide); a, b, c are blocked at their first use, 1 s apart.
        let t = 0;
        const good = () => void l.onOutcome(use('g', `g${t}`, 0), { kind: 'ok' }, (t += 100));
        const blocked: Record<string, number> = {};
        // Each served the site once (burnt proxies: the plain schedule; one that never served climbs faster, see below).
        for (const p of ['a', 'b', 'c', 'd']) l.onOutcome(use(p, `${p}0`, 0), { kind: 'ok' }, t);
        t += 1_000;
        // d is a step further: its first probe failed already (before the others were blocked).
        l.onOutcome(use('d', 'd1', 0), { kind: 'blocked' }, t);
        t += 5_000;
        expect(l.onOutcome(use('d', 'd2', 0), { kind: 'blocked' }, t).backoff).toMatchObject({ level: 2 });
        const dUntil = l.backoffUntil('d', SITE);
        for (const p of ['a', 'b', 'c']) {
            for (let i = 0; i < 10; i++) good();
            blocked[p] = t;
            expect(l.onOutcome(use(p, `${p}1`, 0), { kind: 'blocked' }, t).backoff).toMatchObject({ level: 1, until: t + 5_000 });
        }
        // a's probe goes out; c's too (its backoff ended while a's probe was out: nothing known yet); b's is due.
        l.onSend(use('a', 'a2', 0), blocked.a! + 5_000);
        const cProbeAt = blocked.c! + 5_000;
        l.onSend(use('c', 'c2', 0), cProbeAt);
        expect(l.availability('b', SITE, cProbeAt)).toBe('probe');
        // a's probe fails: it was still blocked that far into its episode, so b's probe is put off until b's episode is
        // as old as a's will be at its next probe; b's level stays.
        const failedAt = cProbeAt + 10;
        const failed = l.onOutcome(use('a', 'a2', 0), { kind: 'blocked' }, failedAt);
        expect(failed.backoff).toMatchObject({ level: 2, until: failedAt + 10_000 });
        expect(failed.deferred).toEqual(['b']);
        const bProbeAt = blocked.b! + (failedAt + 10_000 - blocked.a!);
        expect(l.availability('b', SITE, failedAt)).toBe('backoff');
        expect(l.backoffUntil('b', SITE)).toBe(bProbeAt);
        expect(l.backoffLevel('b', SITE)).toBe(1);
        // c's probe was already out, d is at another step: both left alone. Another site is not touched.
        expect(l.backoffUntil('d', SITE)).toBe(dUntil);
        expect(l.availability('c', SITE, failedAt)).toBe('probing');
        expect(l.availability('b', 'other.test', failedAt)).toBe('usable');
        // b is probed then, and a pass clears it (nothing is kept).
        expect(l.availability('b', SITE, bProbeAt - 1)).toBe('backoff');
        expect(l.availability('b', SITE, bProbeAt)).toBe('probe');
        l.onSend(use('b', 'b2', 0), bProbeAt);
        l.onOutcome(use('b', 'b2', 0), { kind: 'ok' }, bProbeAt + 10);
        expect(l.availability('b', SITE, bProbeAt + 10)).toBe('usable');
        expect(l.backoffLevel('b', SITE)).toBe(0);
    });
});
