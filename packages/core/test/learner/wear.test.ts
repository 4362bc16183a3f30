/**
 * Learned wear: proxies that burn after about N good uses (a site counting pages per IP) are rested at N, once per
 * run, ranked low while rested, and nothing is rested for good. Pure logic on explicit time, seeded random.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Learner, type UseContext } from '../../src/learner/learner.js';
import { WearLearner, WORN_SCORE_FACTOR } from '../../src/learner/wear.js';
import { seeded } from '../helpers.js';

const SITE = 'shop.test';
const use = (proxyId: string, goodUses: number, extra: Partial<UseContext> = {}): UseContext => ({ site: SITE, proxyId, sessionId: `s-${proxyId}`, goodUses, ...extra });

/** `uses` good uses of one session on `proxyId` from `start`, 100 ms apart; returns the effects of each. */
function serve(l: Learner, proxyId: string, uses: number, start: number, extra: Partial<UseContext> = {}) {
    const effects = [];
    for (let i = 0; i < uses; i++) {
        l.onSend(use(proxyId, i, extra), start + 100 * i);
        effects.push(l.onOutcome(use(proxyId, i, extra), { kind: 'ok' }, start + 100 * i + 50));
    }
    return effects;
}

describe('WearLearner', () => {
    it('learns no limit from blocks at first use (banned proxies), nor from too few runs', () => {
        const w = new WearLearner();
        for (let i = 0; i < 10; i++) w.onBlamed(`banned${i}`, SITE, i);
        expect(w.limit(SITE, 100)).toBeUndefined();
        for (let k = 0; k < 30; k++) w.onGood('p', SITE, 200 + k);
        w.onBlamed('p', SITE, 300);
        for (let k = 0; k < 32; k++) w.onGood('q', SITE, 400 + k);
        w.onBlamed('q', SITE, 500);
        expect(w.limit(SITE, 600)).toBeUndefined();
    });

    it('rests a proxy at the low end of the burns seen, once per run, and forgets its count with time', () => {
        const w = new WearLearner({ runHalfLifeMillis: 60_000 });
        for (const [i, n] of [30, 34, 32].entries()) {
            for (let k = 0; k < n; k++) expect(w.onGood(`p${i}`, SITE, 1000 * i + k)).toBeUndefined();
            w.onBlamed(`p${i}`, SITE, 1000 * i + 500);
        }
        expect(w.limit(SITE, 5000)).toBe(30);
        const at = Array.from({ length: 35 }, (_, k) => w.onGood('fresh', SITE, 5000 + k));
        expect(at.findIndex((x) => x !== undefined)).toBe(29);
        expect(at.filter((x) => x !== undefined)).toEqual([30]);
        expect(w.worn('fresh', SITE, 5100)).toBe(true);
        expect(w.worn('fresh', SITE, 5100 + 120_000)).toBe(false);
        // A burn ends the run: the count starts over.
        w.onBlamed('fresh', SITE, 6000);
        expect(w.uses('fresh', SITE, 6000)).toBe(0);
    });

    it('never learns a limit below minCap and rests each run at most once (property)', () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 100 }), (runs, extra) => {
                const w = new WearLearner();
                let t = 0;
                for (const [i, n] of runs.entries()) {
                    for (let k = 0; k < n; k++) w.onGood(`p${i}`, SITE, t++);
                    w.onBlamed(`p${i}`, SITE, t++);
                }
                const limit = w.limit(SITE, t);
                if (limit !== undefined) expect(limit).toBeGreaterThanOrEqual(5);
                let rested = 0;
                for (let k = 0; k < 60 + extra; k++) if (w.onGood('probe', SITE, t + k) !== undefined) rested++;
                expect(rested).toBeLessThanOrEqual(1);
            }),
            { seed: 7, numRuns: 100 },
        );
    });
});

describe('Learner: wear', () => {
    /** Three proxies that burn after 20-29 good uses (too far apart for a session cap), minutes apart, while others pass. */
    function burnt(l: Learner): number {
        let t = 0;
        for (const [i, n] of [20, 29, 26].entries()) {
            serve(l, `ok${i}`, 3, t);
            serve(l, `b${i}`, n, t + 1000);
            l.onOutcome(use(`b${i}`, n), { kind: 'blocked' }, t + 1000 + 100 * n);
            t += 120_000;
        }
        return t;
    }

    it('retires the session of a proxy that reaches the learned wear limit and ranks the proxy low', () => {
        const l = new Learner({}, seeded(3));
        const t = burnt(l);
        expect(l.cap(SITE, t)).toBeUndefined();
        const effects = serve(l, 'fresh', 21, t);
        const retired = effects.map((e, i) => (e.retireSession ? i + 1 : 0)).filter(Boolean);
        expect(retired).toEqual([20]);
        expect(effects[19]!.message).toContain('wear limit');
        expect(l.availability('fresh', SITE, t + 5000)).toBe('usable');
        // Rested: its draw is scaled down (a fresh proxy with the same record would draw up to 1).
        for (let k = 0; k < 20; k++) expect(l.sample('fresh', SITE, t + 5000)).toBeLessThanOrEqual(WORN_SCORE_FACTOR);
        expect(l.counts.rested).toBe(1);
    });

    it('leaves the retirement to the learned session cap when the session reaches it at the same use', () => {
        const l = new Learner({}, seeded(3));
        const t = burnt(l);
        // Three sessions capped at 20 on proxies whose siblings keep passing: a session cap of 20, and more runs of 20.
        for (let i = 0; i < 3; i++) {
            serve(l, `c${i}`, 20, t + 1000 * i);
            l.onOutcome(use(`c${i}`, 20), { kind: 'blocked' }, t + 1000 * i + 2100);
        }
        expect(l.cap(SITE, t + 5000)).toBe(20);
        const effects = serve(l, 'fresh', 20, t + 10_000);
        expect(effects.some((e) => e.retireSession)).toBe(false);
        expect(l.wear.worn('fresh', SITE, t + 13_000)).toBe(true);
    });

    it('learns no wear through a gateway (a dynamic proxy id is one session: its exit is shared and unknown)', () => {
        const l = new Learner({}, seeded(3));
        let t = 0;
        for (const [i, n] of [20, 22, 21].entries()) {
            serve(l, `g${i}`, n, t, { dynamicProxy: true });
            l.onOutcome(use(`g${i}`, n, { dynamicProxy: true }), { kind: 'blocked' }, t + 100 * n);
            t += 120_000;
        }
        expect(l.wear.limit(SITE, t)).toBeUndefined();
        expect(serve(l, 'g9', 25, t, { dynamicProxy: true }).some((e) => e.retireSession)).toBe(false);
    });
});
