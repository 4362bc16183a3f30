/**
 * The learner's parts, one by one: Beta sampling, fading health, decaying backoffs, the site guard, learned pace,
 * learned cap and tiers. Pure logic on explicit time; every random stream seeded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { backoffDelay, backoffState, DEFAULT_DECAYING_BACKOFF, escalate, reopenIfAllBlocked, settle } from '../../src/learner/backoff.js';
import { sampleBeta } from '../../src/learner/beta.js';
import { CapLearner } from '../../src/learner/cap.js';
import { FadingHealth } from '../../src/learner/health.js';
import { PaceLearner } from '../../src/learner/pace.js';
import { SiteGuard } from '../../src/learner/site-guard.js';
import { TierLadder } from '../../src/learner/tiers.js';
import { seeded } from '../helpers.js';

const FC = { seed: 11, numRuns: 100 };

describe('sampleBeta', () => {
    it('draws in [0, 1] with the right mean', () => {
        const random = seeded(1);
        for (const [a, b] of [[1, 1], [8, 2], [0.6, 3.5], [40, 1]] as const) {
            let sum = 0;
            for (let i = 0; i < 4000; i++) {
                const x = sampleBeta(a, b, random);
                expect(x).toBeGreaterThanOrEqual(0);
                expect(x).toBeLessThanOrEqual(1);
                sum += x;
            }
            expect(sum / 4000).toBeCloseTo(a / (a + b), 1);
        }
    }, 30_000);

    it('is a function of the random stream', () => {
        fc.assert(
            fc.property(fc.integer(), fc.double({ min: 0.1, max: 50, noNaN: true }), fc.double({ min: 0.1, max: 50, noNaN: true }), (seed, a, b) => {
                expect(sampleBeta(a, b, seeded(seed))).toBe(sampleBeta(a, b, seeded(seed)));
            }),
            FC,
        );
    }, 30_000);
});

describe('FadingHealth', () => {
    it('drops a proxy that burns after its first blocks, where a lifetime average hardly moves', () => {
        const h = new FadingHealth();
        for (let i = 0; i < 35; i++) h.record('p', 'shop', true, i);
        const before = h.mean('p', 'shop', 40);
        h.record('p', 'shop', false, 41);
        h.record('p', 'shop', false, 42);
        const after = h.mean('p', 'shop', 43);
        // Lifetime average after 35 good and 2 bad: 0.95. Here far lower.
        expect(before).toBeGreaterThan(0.8);
        expect(after).toBeLessThan(0.65);
    });

    it('forgets with time (half-life) and uses the proxy elsewhere as the prior', () => {
        const h = new FadingHealth({ halfLifeMillis: 1000 });
        for (let i = 0; i < 10; i++) h.record('p', 'a.test', false, 0);
        expect(h.mean('p', 'a.test', 0)).toBeLessThan(0.2);
        expect(h.trials('p', 'a.test', 3000)).toBeCloseTo(h.trials('p', 'a.test', 0) / 8, 5);
        // Faded out: back near the prior, far above where the blocks had put it.
        expect(h.mean('p', 'a.test', 20_000)).toBeGreaterThan(0.3);
        // Unknown on b.test: the record everywhere (bad) is the prior.
        expect(h.mean('p', 'b.test', 0)).toBeLessThan(h.mean('q', 'b.test', 0));
    });

    it('starts a proxy never used anywhere from how first uses went on the site', () => {
        const h = new FadingHealth();
        for (let i = 0; i < 10; i++) h.record(`bad${i}`, 'banned.test', i >= 7, 0);
        for (let i = 0; i < 10; i++) h.record(`good${i}`, 'kind.test', i >= 2, 0);
        expect(h.mean('fresh', 'banned.test', 0)).toBeLessThan(0.45);
        expect(h.mean('fresh', 'kind.test', 0)).toBeGreaterThan(0.6);
    });

    it('survives a snapshot, and never reports a mean outside (0, 1)', () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(100_000)), { maxLength: 60 }), (events) => {
                const h = new FadingHealth();
                let t = 0;
                for (const [good, dt] of events) h.record('p', 's', good, (t += dt));
                const copy = new FadingHealth();
                copy.restore(JSON.parse(JSON.stringify(h.toJSON())));
                const m = h.mean('p', 's', t);
                expect(m).toBeGreaterThan(0);
                expect(m).toBeLessThan(1);
                expect(copy.mean('p', 's', t)).toBeCloseTo(m, 1);
            }),
            FC,
        );
    });
});

describe('decaying backoff', () => {
    const o = DEFAULT_DECAYING_BACKOFF;

    it('grows, turns into a ban with a long but finite deadline, and caps', () => {
        const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((level) => backoffDelay(level, o));
        expect(delays.slice(0, 4)).toEqual([5_000, 10_000, 20_000, 40_000]);
        expect(delays[4]).toBe(o.banBaseMillis);
        expect(delays[5]).toBe(2 * o.banBaseMillis);
        expect(delays[8]).toBe(o.banMaxMillis);
    });

    it('every record reaches a probe: nothing is banned forever', () => {
        fc.assert(
            fc.property(fc.integer(), fc.integer({ min: 1, max: 60 }), fc.boolean(), (seed, blames, neverServed) => {
                const random = seeded(seed);
                let r = undefined as ReturnType<typeof escalate> | undefined;
                let now = 1_000_000;
                for (let i = 0; i < blames; i++) {
                    r = escalate(r, now, random, o, neverServed);
                    expect(r.until! - now).toBeLessThanOrEqual(o.banMaxMillis);
                    expect(backoffState(r, now, o)).toBe(r.level >= o.banAfterBackoffs ? 'banned' : 'backoff');
                    now = r.until!;
                    expect(backoffState(r, now, o)).toBe('probe');
                }
                expect(settle(r, now)).toEqual({ level: 0 });
            }),
            FC,
        );
    }, 30_000);

    it('a proxy that never served the site climbs three levels per failed probe: re-probes 8x apart, banned at its third block', () => {
        const none = { ...o, jitter: 0 };
        const climb = (neverServed: boolean) => {
            const delays: number[] = [];
            let r = undefined as ReturnType<typeof escalate> | undefined;
            for (let i = 0; i < 5; i++) {
                r = escalate(r, 0, seeded(1), none, neverServed);
                delays.push(r.until!);
            }
            return delays;
        };
        // The first block is one level either way (no proxy has served at its first use).
        expect(climb(true)).toEqual([5_000, 40_000, 4 * o.banBaseMillis, o.banMaxMillis, o.banMaxMillis]);
        expect(climb(false)).toEqual([5_000, 10_000, 20_000, 40_000, o.banBaseMillis]);
    });

    it('a success during a running backoff does not lift it', () => {
        const r = escalate(undefined, 0, seeded(1), o);
        expect(settle(r, 10)).toBe(r);
    });

    it('reopens a restored pool whose every proxy is blocked, one probe each, keeping the levels', () => {
        const records = new Map([
            ['a', { level: 6, until: 10_000_000 }],
            ['b', { level: 2, until: 5_000 }],
        ]);
        const { records: out, reopened } = reopenIfAllBlocked(records, ['a', 'b'], 1_000, o);
        expect(reopened).toBe(2);
        expect(backoffState(out.get('a'), 1_000, o)).toBe('probe');
        expect(out.get('a')!.level).toBe(6);
        // One usable proxy: nothing to reopen.
        expect(reopenIfAllBlocked(records, ['a', 'b', 'c'], 1_000, o).reopened).toBe(0);
    });
});

describe('SiteGuard', () => {
    it('calls it site-wide when many proxies were blocked with no success between, confirms on the second pause, then stops', () => {
        const g = new SiteGuard('shop.test', { minProxies: 4, pauseMillis: 1000, stopAfterMillis: 20_000 });
        const verdicts = ['p1', 'p2', 'p3'].map((p, i) => g.observe(p, true, i, true));
        expect(verdicts.every((v) => !v.siteWide)).toBe(true);
        const v = g.observe('p4', true, 3, true);
        expect(v).toMatchObject({ siteWide: true, pauseUntil: 1003 });
        // Suspected only: a run of unlucky picks looks the same, so nothing is taken back yet.
        expect(v.absolve).toEqual([]);
        expect(v.message).toMatch(/every proxy was blocked on shop\.test within 1 s: the site may be down or the check may be wrong/);
        // Blocks of uses in flight during the pause do not extend it.
        expect(g.observe('p1', true, 500, true).pauseUntil).toBeUndefined();
        const confirmed = g.observe('p2', true, 1100, true);
        expect(confirmed.pauseUntil).toBe(3100);
        expect(confirmed.absolve.sort()).toEqual(['p1', 'p2', 'p3', 'p4']);
        // Still blocked everywhere: the episode goes on until it lasted stopAfterMillis, then says to stop.
        let stop: string | undefined;
        let t = 1100;
        while (!stop && t < 40_000) for (const p of ['p1', 'p2', 'p3', 'p4']) stop ??= g.observe(p, true, (t += 250), true).stop;
        expect(t).toBeGreaterThanOrEqual(20_003);
        expect(t).toBeLessThan(21_500);
        expect(stop).toMatch(/every proxy was blocked on shop\.test within \d+ s/);
    });

    it('is not site-wide while most proxies pass, and a success ends an episode', () => {
        const g = new SiteGuard('s', { minProxies: 3 });
        for (let i = 0; i < 5; i++) g.observe(`good${i}`, false, i);
        // Proxies never seen passing, blocked by the classifier: bans, however many.
        const bans = new SiteGuard('s', { minProxies: 3 });
        for (let i = 0; i < 20; i++) expect(bans.observe(`p${i}`, true, i).siteWide).toBe(false);
        // Half of the proxies blocked (a banned subnet, say): not the site's fault.
        for (const [i, p] of ['a', 'b', 'c', 'd', 'e'].entries()) expect(g.observe(p, true, 10 + i, true).siteWide).toBe(false);
        const fresh = new SiteGuard('s', { minProxies: 3 });
        for (const p of ['a', 'b', 'c']) fresh.observe(p, true, 0, true);
        expect(fresh.inEpisode).toBe(true);
        fresh.observe('a', false, 1);
        expect(fresh.inEpisode).toBe(false);
        // Proxies not seen lately are left out: ten good ones long ago do not keep three fresh blocks from counting.
        const slow = new SiteGuard('s', { minProxies: 3, horizonMillis: 1000 });
        for (let i = 0; i < 10; i++) slow.observe(`good${i}`, false, 0);
        expect(slow.observe('a', true, 5000, true).siteWide).toBe(false);
        expect(slow.observe('b', true, 5001, true).siteWide).toBe(false);
        expect(slow.observe('c', true, 5002, true).siteWide).toBe(true);
    });

    it('is not site-wide while successes keep coming between the blocks, however many latest uses are blocks', () => {
        // A site that blocks one use in ten at random: each blocked proxy is backed off, so its latest use stays a block,
        // while the proxies still in use keep passing. Nine of ten proxies' latest uses are blocks, all credible.
        const g = new SiteGuard('s', { minProxies: 3 });
        for (let i = 0; i < 10; i++) g.observe(`p${i}`, false, i);
        for (let i = 1; i < 10; i++) {
            expect(g.observe(`p${i}`, true, 100 + 2 * i).siteWide).toBe(false);
            g.observe('p0', false, 101 + 2 * i);
        }
        expect(g.inEpisode).toBe(false);
        // The same blocks with no success between them: that is the site.
        const h = new SiteGuard('s', { minProxies: 3 });
        for (let i = 0; i < 10; i++) h.observe(`p${i}`, false, i);
        const verdicts = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => h.observe(`p${i}`, true, 100 + i).siteWide);
        expect(verdicts.indexOf(true)).toBe(8);
    });

    it('does not blame the site for worn sessions reaching their cap together, but does once fresh sessions are blocked too', () => {
        const g = new SiteGuard('s', { minProxies: 3 });
        for (const p of ['a', 'b', 'c', 'd']) g.observe(p, false, 0);
        // Sessions created together hit a per-session cap together: their proxies passed, but the sessions were worn.
        for (const [i, p] of ['a', 'b', 'c', 'd'].entries()) expect(g.observe(p, true, 10 + i, false, true).siteWide).toBe(false);
        expect(g.inEpisode).toBe(false);
        // Fresh sessions on the same proxies blocked as well: that is the site (or the check).
        expect(g.observe('a', true, 20).siteWide).toBe(false);
        expect(g.observe('b', true, 21).siteWide).toBe(false);
        expect(g.observe('c', true, 22).siteWide).toBe(true);
        // A check that refuses pages counts whatever the session's wear.
        const check = new SiteGuard('s', { minProxies: 3 });
        for (const [i, p] of ['a', 'b', 'c'].entries()) check.observe(p, true, i, true, true);
        expect(check.inEpisode).toBe(true);
    });
});

describe('PaceLearner', () => {
    it('after the first 429 of an IP, repeats are rare (3 requests/s, Retry-After 2 s)', () => {
        fc.assert(
            fc.property(fc.integer(), (seed) => {
                const random = seeded(seed);
                const pace = new PaceLearner();
                const allow = windowLimiter(3, 1000, 2000);
                let now = 0;
                let limited = 0;
                let served = 0;
                while (served < 300) {
                    now = Math.max(now + 20 + random() * 150, pace.readyAt('p', 's', now));
                    pace.onSend('p', 's', now);
                    if (allow(now)) {
                        served++;
                        pace.onSuccess('p', 's', now);
                    } else {
                        limited++;
                        pace.onRateLimited('p', 's', now, 2000);
                    }
                }
                expect(limited).toBeGreaterThanOrEqual(1);
                expect(limited).toBeLessThanOrEqual(3);
                expect(pace.rate('p', 's', now)).toBeLessThanOrEqual(3);
            }),
            { seed: 5, numRuns: 40 },
        );
    }, 30_000);

    /** A fixed window per IP like the proving ground's and the selection bench's (b): `limit` per `windowMs`, penalty restarted by requests in it. */
    function windowLimiter(limit: number, windowMs: number, penalty: number) {
        let start = Number.NaN;
        let count = 0;
        let until = -1;
        return (now: number): boolean => {
            if (now < until) {
                until = now + penalty;
                start = until;
                count = 0;
                return false;
            }
            if (Number.isNaN(start) || now - start >= windowMs) {
                start = now;
                count = 0;
            }
            if (++count > limit) {
                until = now + penalty;
                start = until;
                count = 0;
                return false;
            }
            return true;
        };
    }

    it("the site's first 429 paces its other proxies too, counting what each already sent in a burst", () => {
        fc.assert(
            fc.property(fc.integer(), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 5, max: 30 }), (seed, proxies, limit) => {
                const random = seeded(seed);
                const pace = new PaceLearner();
                const ids = Array.from({ length: proxies }, (_, i) => `p${i}`);
                const allow = ids.map(() => windowLimiter(limit, 10_000, 5_000));
                let now = 0;
                let first: { at: number; id: string } | undefined;
                const limited: { at: number; id: string }[] = [];
                let served = 0;
                // Uses go to any proxy its pace lets through, as fast as the crawl can send: every proxy bursts at first.
                while (served < 40 * proxies) {
                    now += 5 + random() * 20;
                    const ready = ids.filter((id) => pace.readyAt(id, 's', now) <= now);
                    if (ready.length === 0) continue;
                    const i = Math.floor(random() * ready.length);
                    const id = ready[i]!;
                    pace.onSend(id, 's', now);
                    if (allow[ids.indexOf(id)]!(now)) {
                        served++;
                        pace.onSuccess(id, 's', now);
                    } else {
                        first ??= { at: now, id };
                        limited.push({ at: now, id });
                        pace.onRateLimited(id, 's', now, 5000);
                    }
                }
                // Some proxy crossed the window first; every other one, mid-burst then, was held before it did too (the
                // first one probes its own faster rate after its pause and may be limited again).
                expect(first).toBeDefined();
                expect(limited.filter((l) => l.at < first!.at + 10_000 && l.id !== first!.id)).toEqual([]);
            }),
            { seed: 7, numRuns: 60 },
        );
    }, 30_000);

    it("raises the site's prior as a proxy's clean uses show a shorter window, never above the site's limit", () => {
        fc.assert(
            fc.property(
                fc.integer(),
                fc.integer({ min: 2, max: 10 }),
                fc.integer({ min: 500, max: 10_000 }),
                fc.integer({ min: 500, max: 5000 }),
                (seed, limit, windowMs, penalty) => {
                    const random = seeded(seed);
                    const pace = new PaceLearner();
                    const allow = windowLimiter(limit, windowMs, penalty);
                    const allowed = (limit * 1000) / windowMs;
                    let now = 0;
                    let highest = 0;
                    while (now < 120_000) {
                        now = Math.max(now + 5 + random() * 20, pace.readyAt('p', 's', now));
                        pace.onSend('p', 's', now);
                        if (allow(now)) pace.onSuccess('p', 's', now);
                        else pace.onRateLimited('p', 's', now, penalty);
                        highest = Math.max(highest, pace.rate('fresh', 's', now) ?? 0);
                    }
                    // A window no longer than the measure window: the prior (what a proxy without a 429 of its own is
                    // paced at) never exceeds what the site allows; with a short one it rises well above the floor the
                    // first 429 set (0.8 x the limit per 10 s).
                    expect(highest).toBeLessThanOrEqual(allowed);
                    if (windowMs <= 2000) expect(pace.rate('fresh', 's', now)!).toBeGreaterThan(2 * 0.8 * (limit / 10));
                },
            ),
            { seed: 3, numRuns: 60 },
        );
    }, 30_000);

    it("paces a site's other proxies at what it allowed over the measure window; one proxy's 429 does not lower another's rate", () => {
        const pace = new PaceLearner();
        // Three proxies burst 11 uses in one second each; the 11th is limited: 10 allowed.
        for (const [k, id] of ['a', 'b', 'c'].entries()) {
            for (let t = 0; t < 11; t++) pace.onSend(id, 's', k * 100 + t * 100);
            pace.onRateLimited(id, 's', k * 100 + 1000, 5000);
        }
        // Each limited proxy: 0.8 x the 10 per second it sent (not 0.8^3 of it); a fresh proxy (the site's prior):
        // 0.8 x 10 per 10 s, the burst spread over the measure window.
        for (const id of ['a', 'b', 'c']) expect(pace.rate(id, 's', 2000)).toBeCloseTo(8, 6);
        expect(pace.rate('fresh', 's', 2000)).toBeCloseTo(0.8, 6);
        // A proxy that sent 5 uses just before the site's first 429 waits as if they had been paced (1.25 s apart from 0).
        const other = new PaceLearner();
        for (let t = 0; t < 5; t++) other.onSend('busy', 's', t * 100);
        for (let t = 0; t < 11; t++) other.onSend('first', 's', t * 100);
        expect(other.onRateLimited('first', 's', 1000, 5000)).toBe(true);
        expect(other.readyAt('busy', 's', 1000)).toBeCloseTo(5 * 1250, 6);
        expect(other.readyAt('fresh', 's', 1000)).toBe(0);
        // Its own 429 is its reset: the limited proxy waits for Retry-After, not for a replay of its burst.
        expect(other.readyAt('first', 's', 1000)).toBe(6000);
        // Not the site's first any more.
        for (let t = 0; t < 3; t++) other.onSend('busy', 's', 2000 + t * 1250);
        expect(other.onRateLimited('busy', 's', 5000, 5000)).toBe(false);
    });

    it("through a gateway, a session paced by the site's prior speeds up by its clean uses; a 429 of one caps the others' increase", () => {
        const pace = new PaceLearner();
        // The site's first 429: 3 uses allowed in 300 ms, spread over the 10 s measure window (prior 0.8 x 0.3 per s);
        // the highest rate measured: 3 per s (the burst, read over at least a second).
        for (let t = 0; t < 4; t++) pace.onSend('first', 's', t * 100);
        pace.onRateLimited('first', 's', 300, 2000, true);
        expect(pace.rate('gw', 's', 400)).toBeCloseTo(0.24, 6);
        // Ten clean uses: a gateway session's pace rises by 15% each (x 1.15^10); a fixed proxy stays at the prior.
        pace.onSend('gw', 's', 450);
        pace.onSend('fixed', 's', 450);
        for (let i = 0; i < 10; i++) {
            pace.onSuccess('gw', 's', 500 + i, undefined, true);
            pace.onSuccess('fixed', 's', 500 + i);
        }
        expect(pace.rate('gw', 's', 600)).toBeCloseTo(0.24 * 1.15 ** 10, 6);
        expect(pace.rate('fixed', 's', 600)).toBeCloseTo(0.24, 6);
        // Never past 0.95 x the highest rate measured.
        for (let i = 0; i < 500; i++) pace.onSuccess('gw', 's', 700 + i, undefined, true);
        expect(pace.rate('gw', 's', 1300)).toBeCloseTo(0.95 * 3, 6);
        // Two more sessions, one part way up, one at the top; then the first meets a 429 (its exit carries more than
        // it): its increase is gone (it is paced by its own 429 now), and the others' stops at 0.8 x the rate it had.
        pace.onSend('slow', 's', 1399);
        pace.onSend('other', 's', 1399);
        for (let i = 0; i < 5; i++) pace.onSuccess('slow', 's', 1400 + i, undefined, true);
        for (let i = 0; i < 150; i++) pace.onSuccess('other', 's', 1400 + i, undefined, true);
        expect(pace.rate('slow', 's', 1500)).toBeCloseTo(0.24 * 1.15 ** 5, 6);
        expect(pace.rate('other', 's', 1500)).toBeCloseTo(0.95 * 3, 6);
        for (let t = 0; t < 3; t++) pace.onSend('gw', 's', 1600 + t * 350);
        pace.onRateLimited('gw', 's', 2300, 2000, true);
        expect(pace.rate('other', 's', 2400)).toBeCloseTo(0.8 * 0.95 * 3, 6);
        expect(pace.rate('slow', 's', 2400)).toBeCloseTo(0.24 * 1.15 ** 5, 6);
        expect(pace.rate('gw', 's', 2400)).toBeLessThan(0.8 * 0.95 * 3);
        pace.onSend('fresh', 's', 2499);
        for (let i = 0; i < 150; i++) pace.onSuccess('fresh', 's', 2500 + i, undefined, true);
        expect(pace.rate('fresh', 's', 2600)).toBeCloseTo(0.8 * 0.95 * 3, 6);
    });

    it('paces nothing before a 429, forgets a pace, and keeps it in a snapshot', () => {
        const pace = new PaceLearner({ forgetAfterMillis: 60_000 });
        pace.onSend('p', 's', 0);
        expect(pace.readyAt('p', 's', 1)).toBe(0);
        for (let t = 0; t < 1000; t += 100) pace.onSend('p', 's', t);
        pace.onRateLimited('p', 's', 1000, 3000);
        expect(pace.readyAt('p', 's', 1000)).toBe(4000);
        const copy = new PaceLearner({ forgetAfterMillis: 60_000 });
        copy.restore(JSON.parse(JSON.stringify(pace.toJSON())));
        expect(copy.rate('p', 's', 2000)).toBeCloseTo(pace.rate('p', 's', 2000)!, 6);
        expect(pace.rate('p', 's', 70_000)).toBeUndefined();
    });
});

describe('CapLearner', () => {
    it('learns a consistent cap, bounded below, and forgets it', () => {
        const c = new CapLearner({ forgetAfterMillis: 10_000 });
        c.observe(25, 0);
        c.observe(25, 1);
        expect(c.cap(2)).toBeUndefined();
        c.observe(26, 2);
        expect(c.cap(3)).toBe(25);
        expect(c.cap(20_000)).toBeUndefined();
        const low = new CapLearner();
        for (let i = 0; i < 5; i++) low.observe(2, i);
        expect(low.cap(10)).toBeUndefined();
        for (let i = 0; i < 5; i++) low.observe(5, i);
        expect(low.cap(10)).toBe(5);
    });

    it('through a gateway, a burst of blocks at disagreeing counts (an exit burning) makes no cap; agreeing ones count', () => {
        const c = new CapLearner();
        // Three session ids on one exit blocked within two seconds after 7, 15 and 8 good uses: the exit burnt.
        c.observe(7, 0, true);
        c.observe(15, 1_000, true);
        c.observe(8, 2_000, true);
        // Later, two more ids at 8 (apart): without the burst rule 7, 8, 8, 8 would make a cap of 7.
        c.observe(8, 60_000, true);
        c.observe(8, 120_000, true);
        expect(c.cap(121_000)).toBeUndefined();
        // The same uses on fixed proxies (each block on its own proxy) do make one.
        const fixed = new CapLearner();
        for (const [uses, at] of [[7, 0], [15, 1_000], [8, 2_000], [8, 60_000], [8, 120_000]] as const) fixed.observe(uses, at);
        expect(fixed.cap(121_000)).toBe(7);
        // Agreeing blocks within a burst count: three ids created together reaching a cap of 25 together.
        const together = new CapLearner();
        for (let i = 0; i < 3; i++) together.observe(25, i * 500, true);
        expect(together.cap(2_000)).toBe(25);
        // What is stored leaves the burst out and keeps the plain shape.
        expect(c.toJSON()).toEqual([
            { uses: 8, at: 60_000 },
            { uses: 8, at: 120_000 },
        ]);
    });

    it('blocks at random use counts (a proxy burning) make no cap, mostly', () => {
        let caps = 0;
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 8, maxLength: 8 }), (uses) => {
                const c = new CapLearner();
                uses.forEach((u, i) => c.observe(u, i));
                const cap = c.cap(10);
                if (cap !== undefined) caps++;
                // When one is found, at least 40% of the observations agree with it.
                if (cap !== undefined) expect(uses.filter((u) => u >= cap && u <= 1.2 * cap).length).toBeGreaterThanOrEqual(3);
            }),
            { seed: 3, numRuns: 200 },
        );
        expect(caps).toBeLessThan(40);
    }, 30_000);
});

describe('TierLadder', () => {
    it('starts cheapest, moves up when blocked in a row, probes lower later and comes back down', () => {
        const t = new TierLadder(3, { blockedToMoveUp: 2, probeLowerAfterMillis: 1000 });
        expect(t.current('s')).toBe(0);
        expect(t.probeDue('s', 0)).toBe(false);
        t.onOutcome('s', 0, 'blamed', 1);
        t.onOutcome('s', 0, 'good', 2);
        t.onOutcome('s', 0, 'blamed', 3);
        expect(t.current('s')).toBe(0);
        t.onOutcome('s', 0, 'blamed', 4);
        expect(t.current('s')).toBe(1);
        // Blocks on the tier the site left do not count against the new one.
        t.onOutcome('s', 0, 'blamed', 5);
        t.onOutcome('s', 0, 'blamed', 6);
        expect(t.current('s')).toBe(1);
        expect(t.probeDue('s', 500)).toBe(false);
        expect(t.probeDue('s', 1004)).toBe(true);
        t.startProbe('s', 'p0', 1004);
        // Only one probe at a time, and only its proxy's verdict is the probe's.
        expect(t.probeDue('s', 1005)).toBe(false);
        expect(t.isProbe('s', 'p0')).toBe(true);
        expect(t.isProbe('s', 'p1')).toBe(false);
        t.onOutcome('s', 0, 'blamed', 1006, true);
        expect(t.current('s')).toBe(1);
        // A failed probe doubles the wait: 2000 ms after it.
        expect(t.probeDue('s', 3005)).toBe(false);
        expect(t.probeDue('s', 3006)).toBe(true);
        t.startProbe('s', 'p0', 3006);
        t.onOutcome('s', 0, 'good', 3008, true);
        expect(t.current('s')).toBe(0);
        expect(t.probeDue('s', 1e9)).toBe(false);
        t.exhausted('s', 0, 4000);
        t.exhausted('s', 0, 4001);
        t.exhausted('s', 1, 4001);
        t.exhausted('s', 2, 4002);
        expect(t.current('s')).toBe(2);
        // Sites are independent.
        expect(t.current('other')).toBe(0);
    });

    it('lets an inconclusive probe go without doubling, gives up a stale one, and counts uses per site and tier', () => {
        const t = new TierLadder(2, { probeLowerAfterMillis: 1000 });
        t.exhausted('s', 0, 0);
        t.startProbe('s', 'p0', 1000);
        t.probeInconclusive('s', 'other', 1001);
        expect(t.isProbe('s', 'p0')).toBe(true);
        t.probeInconclusive('s', 'p0', 1001);
        expect(t.probeDue('s', 2000)).toBe(false);
        expect(t.probeDue('s', 2001)).toBe(true);
        t.startProbe('s', 'p0', 2001);
        // Its session vanished: after 5 minutes the probe is given up and may be tried again a wait later.
        expect(t.probeDue('s', 2001 + 299_999)).toBe(false);
        expect(t.probeDue('s', 2001 + 300_000)).toBe(false);
        expect(t.probeDue('s', 2001 + 301_000)).toBe(true);
        t.countUse('s', 0);
        t.countUse('s', 1);
        t.countUse('s', 1);
        t.countUse('x', 0);
        t.countUse('s', 5);
        expect(t.uses('s')).toEqual([1, 2]);
        expect(t.uses('x')).toEqual([1, 0]);
    });

    it('persists the tier and the probe schedule per site; restores clamped and skips malformed entries', () => {
        const t = new TierLadder(3, { probeLowerAfterMillis: 1000 });
        t.exhausted('a', 0, 10);
        t.exhausted('a', 1, 20);
        t.countUse('b', 0);
        expect(t.toJSON()).toEqual({ a: { current: 2, probeLowerAt: 1020, failedProbes: 0 } });
        const back = new TierLadder(2);
        back.restore({ ...t.toJSON(), bad: { current: 'x' } as never, c: { current: 1, probeLowerAt: 5, failedProbes: 2 } });
        expect(back.current('a')).toBe(1);
        expect(back.current('bad')).toBe(0);
        expect(back.current('c')).toBe(1);
        expect(back.probeDue('a', 1019)).toBe(false);
        expect(back.probeDue('a', 1020)).toBe(true);
    });

    it('property: the tier moves one step at a time, up only after blockedToMoveUp blames in a row or exhaustion, down only on a good probe', () => {
        const event = fc.oneof(
            fc.record({ kind: fc.constant('outcome' as const), tier: fc.integer({ min: 0, max: 2 }), good: fc.boolean(), probe: fc.boolean() }),
            fc.record({ kind: fc.constant('exhausted' as const), tier: fc.integer({ min: 0, max: 2 }) }),
            fc.record({ kind: fc.constant('probe' as const) }),
            fc.record({ kind: fc.constant('wait' as const), millis: fc.integer({ min: 0, max: 5000 }) }),
        );
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 4 }), fc.array(event, { maxLength: 60 }), (k, events) => {
                const t = new TierLadder(3, { blockedToMoveUp: k, probeLowerAfterMillis: 1000, maxProbeLowerAfterMillis: 4000 });
                let now = 0;
                let inRow = 0;
                let movedAt = -Infinity;
                for (const e of events) {
                    const before = t.current('s');
                    let probeVerdict = false;
                    let mayMoveUp = false;
                    if (e.kind === 'wait') now += e.millis;
                    else if (e.kind === 'probe') {
                        const due = t.probeDue('s', now);
                        // Never due before probeLowerAfterMillis after a move up.
                        if (due) expect(now - movedAt).toBeGreaterThanOrEqual(1000);
                        if (due) t.startProbe('s', 'p', now);
                    } else if (e.kind === 'exhausted') {
                        mayMoveUp = e.tier === before;
                        t.exhausted('s', e.tier, now);
                    } else {
                        const probe = e.probe && t.isProbe('s', 'p');
                        probeVerdict = probe;
                        if (!probe && e.tier === before) {
                            inRow = e.good ? 0 : inRow + 1;
                            mayMoveUp = inRow >= k;
                        }
                        t.onOutcome('s', e.tier, e.good ? 'good' : 'blamed', now, probe);
                        if (probe && e.good && e.tier < before) expect(t.current('s')).toBe(e.tier);
                    }
                    const after = t.current('s');
                    expect(after).toBeGreaterThanOrEqual(0);
                    expect(after).toBeLessThan(3);
                    expect(Math.abs(after - before)).toBeLessThanOrEqual(1);
                    if (after > before) {
                        expect(mayMoveUp).toBe(true);
                        movedAt = now;
                    }
                    if (after < before) expect(probeVerdict).toBe(true);
                    if (after !== before) inRow = 0;
                }
            }),
            { seed: 5, numRuns: 300 },
        );
    }, 30_000);
});

describe('choices', () => {
    it('chooseProxy spreads load by posterior per session and honours the tier', async () => {
        const { chooseProxy } = await import('../../src/learner/choice.js');
        const draw = (id: string) => ({ good: 0.9, meh: 0.5, bad: 0.1 })[id] ?? 0;
        expect(chooseProxy([{ id: 'good', load: 0 }, { id: 'meh', load: 0 }], draw)!.id).toBe('good');
        expect(chooseProxy([{ id: 'good', load: 2 }, { id: 'meh', load: 0 }], draw)!.id).toBe('meh');
        const tiered = [{ id: 'good', load: 0, tier: 1 }, { id: 'bad', load: 0, tier: 0 }];
        expect(chooseProxy(tiered, draw, 0)!.id).toBe('bad');
        expect(chooseProxy(tiered, draw, 1)!.id).toBe('good');
        expect(chooseProxy([{ id: 'bad', load: 0, tier: 0 }], draw, 1)!.id).toBe('bad');
        expect(chooseProxy([{ id: 'good', load: 0, tier: 2 }], draw, 1)).toBeUndefined();
    });
});

describe('readTiers', () => {
    it('keeps each URL with the first (cheapest) tier it appears in, direct included', async () => {
        const { readTiers } = await import('../../src/learner/tiered.js');
        const { ProxyConfiguration } = await import('@crawlee/core');
        const pc = new ProxyConfiguration({ tieredProxyUrls: [[null], ['http://127.0.0.1:1', 'http://127.0.0.1:2'], ['http://127.0.0.1:2', 'http://127.0.0.1:3']] });
        const tiers = readTiers(pc as never)!;
        expect(tiers.count).toBe(3);
        expect(tiers.urls).toEqual([null, 'http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3']);
        expect([...tiers.tierOf]).toEqual([['', 0], ['http://127.0.0.1:1', 1], ['http://127.0.0.1:2', 1], ['http://127.0.0.1:3', 2]]);
        expect(readTiers(new ProxyConfiguration({ proxyUrls: ['http://127.0.0.1:1'] }) as never)).toBeUndefined();
        expect(readTiers(undefined)).toBeUndefined();
    });
});
