/**
 * The learner's per-(proxy, site) records reached through an interned pair: a site guard that finds a proxy's record
 * on the pair says exactly what one that looks it up by proxy id says (also once records are forgotten past the
 * horizon and come back), maps of one interning keep their values apart on the pair, and the sibling tracker (which
 * reuses the entry it drops) answers like the list it replaced. Pure logic on explicit time; every stream seeded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { SiblingTracker } from '../../src/learner/blame.js';
import { PairMap, Pairs, PairSlot } from '../../src/learner/pair-map.js';
import { SiteGuard, type Latest } from '../../src/learner/site-guard.js';

const FC = { seed: 4242, numRuns: 150 };

const use = fc.record({
    proxy: fc.nat(9),
    blocked: fc.boolean(),
    checkFailed: fc.boolean(),
    worn: fc.boolean(),
    // Mostly short steps; sometimes past the horizon (1 s here), so records are forgotten and made again.
    step: fc.oneof({ weight: 4, arbitrary: fc.nat(200) }, { weight: 1, arbitrary: fc.integer({ min: 900, max: 2500 }) }),
});

describe('pair records', () => {
    it('a site guard reading records through the pair gives the verdicts of one looking them up', () => {
        let forgotten = 0;
        fc.assert(
            fc.property(fc.array(use, { minLength: 20, maxLength: 300 }), (uses) => {
                const pairs = new Pairs();
                const options = { minProxies: 3, fraction: 0.6, horizonMillis: 1000, pauseMillis: 100, stopAfterMillis: 5000 };
                const viaPair = new SiteGuard('s', options, new PairSlot<Latest>(pairs));
                const byId = new SiteGuard('s', options);
                let now = 0;
                const lastSeen = new Map<number, number>();
                for (const u of uses) {
                    now += u.step;
                    for (const [p, at] of lastSeen) {
                        if (at > now - 1000) continue;
                        forgotten++;
                        lastSeen.delete(p);
                    }
                    lastSeen.set(u.proxy, now);
                    const id = `p${u.proxy}`;
                    const a = viaPair.observe(id, u.blocked, now, u.checkFailed, u.worn, pairs.of(id, 's'));
                    const b = byId.observe(id, u.blocked, now, u.checkFailed, u.worn);
                    expect(a).toEqual(b);
                    expect(viaPair.pauseDeadline).toBe(byId.pauseDeadline);
                    expect(viaPair.inEpisode).toBe(byId.inEpisode);
                }
            }),
            FC,
        );
        // The runs did forget records (and reuse proxies after that), the case a stale reference on a pair would get wrong.
        expect(forgotten).toBeGreaterThan(100);
    }, 60_000);

    it('maps of one interning keep their own values on a pair, set before or after the pair was made', () => {
        const pairs = new Pairs();
        const a = new PairMap<string>(pairs);
        const b = new PairMap<number>(pairs);
        a.set('p1', 's', 'one');
        const pair = pairs.of('p1', 's');
        // A map made after the pair (the learner makes its maps first; this one takes a place the pair lacks).
        const late = new PairMap<boolean>(pairs);
        const slot = new PairSlot<string>(pairs);
        expect(late.at(pair)).toBeUndefined();
        expect(slot.at(pair)).toBeUndefined();
        late.set('p1', 's', true);
        slot.set(pair, 'slot');
        b.set('p1', 's', 7);
        expect([a.at(pair), b.at(pair), late.at(pair), slot.at(pair)]).toEqual(['one', 7, true, 'slot']);
        expect(a.delete('p1', 's')).toBe(true);
        expect([a.at(pair), a.get('p1', 's'), b.at(pair), b.get('p1', 's')]).toEqual([undefined, undefined, 7, 7]);
        // A pair of another interning is read by key, never by its places.
        const other = new Pairs().of('p1', 's');
        expect([b.at(other), slot.at(other)]).toEqual([7, undefined]);
    });

    it('the sibling tracker answers like a list of the latest good use of the last 8 sessions', () => {
        const good = fc.record({ session: fc.nat(15), step: fc.nat(8000), other: fc.nat(15) });
        fc.assert(
            fc.property(fc.array(good, { minLength: 10, maxLength: 400 }), (goods) => {
                const pairs = new Pairs();
                const tracker = new SiblingTracker(30_000, pairs);
                const pair = pairs.of('p', 's');
                // The reference: each session's latest good use, the 8 most recent sessions kept.
                let kept: { id: string; at: number }[] = [];
                let now = 0;
                for (const g of goods) {
                    now += g.step;
                    const id = `s${g.session}`;
                    tracker.onGood('p', 's', id, now, g.session % 2 === 0 ? pair : undefined);
                    kept = [...kept.filter((k) => k.id !== id), { id, at: now }].slice(-8);
                    const asked = `s${g.other}`;
                    const want = kept.some((k) => k.id !== asked && k.at > now - 30_000);
                    expect(tracker.otherPassed('p', 's', asked, now)).toBe(want);
                }
            }),
            FC,
        );
    }, 60_000);
});
