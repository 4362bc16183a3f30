/**
 * Proxy health with recency: per (proxy, site) a Beta posterior over "a use goes well" whose counts fade, by time
 * (half-life) and by newer outcomes (each outcome discounts the older ones), with the proxy's record on every site as
 * the prior (for a proxy never used anywhere: how the first uses of proxies went on that site). Old evidence fades, so a proxy that burns loses its lead after a block or two and one that recovered is
 * back in the running soon. `sample()` draws from the posterior: Thompson sampling, exploration included.
 */
import { sampleBeta, type Random } from './beta.js';
import { HAS_COUNTS, PAIR_AT, PAIR_BAD, PAIR_HAS, PAIR_OK, PAIR_STRIDE, Pairs, type Pair } from './pair-map.js';

/** How fast health forgets (`learner.health` option). */
export interface HealthOptions {
    /** Half-life of an outcome's weight, in milliseconds. @default 300000 (5 minutes) */
    halfLifeMillis?: number;
    /** Factor applied to the older counts of a (proxy, site) at each new outcome there (1 = no discount). @default 0.85 */
    discountPerOutcome?: number;
    /** Weight of a failure against a success (a block says more than a page). @default 2 */
    failureWeight?: number;
    /** Weight, in outcomes, of the proxy's record everywhere as the prior on a site. @default 2 */
    priorWeight?: number;
}

export type ResolvedHealthOptions = Required<HealthOptions>;

export const DEFAULT_HEALTH_OPTIONS: ResolvedHealthOptions = { halfLifeMillis: 300_000, discountPerOutcome: 0.85, failureWeight: 2, priorWeight: 2 };

/** Faded counts of good and bad outcomes, as of `at` (epoch millis). Plain data: this is what the store keeps. */
export interface FadedCounts {
    ok: number;
    bad: number;
    at: number;
}

/** Persisted health: per proxy id, the record everywhere and per site. */
export interface PersistedFadedHealth {
    [proxyId: string]: { global: FadedCounts; sites: Record<string, FadedCounts> };
}

interface Entry {
    /** The proxy's counts everywhere: a view on the numbers of its pair with {@link EVERYWHERE}, which start at `g`. */
    global: FadedCounts;
    g: number;
    sites: Map<string, SiteCounts>;
}

/** The site of a proxy's pair whose numbers hold its counts everywhere (no pool key holds a NUL). */
const EVERYWHERE = '\u0000';

/**
 * A proxy's counts on one site: a view on its pair's numbers in the interning ({@link PAIR_OK}), where a caller holding
 * the pair reads them without this object (nor three heap numbers of its own).
 */
class SiteCounts implements FadedCounts {
    constructor(
        private readonly pairs: Pairs,
        private readonly base: number,
    ) {}
    get ok(): number {
        return this.pairs.num[this.base + PAIR_OK]!;
    }
    set ok(v: number) {
        this.pairs.num[this.base + PAIR_OK] = v;
    }
    get bad(): number {
        return this.pairs.num[this.base + PAIR_BAD]!;
    }
    set bad(v: number) {
        this.pairs.num[this.base + PAIR_BAD] = v;
    }
    get at(): number {
        return this.pairs.num[this.base + PAIR_AT]!;
    }
    set at(v: number) {
        this.pairs.num[this.base + PAIR_AT] = v;
    }
}

/** Plain data of counts (a copy: what is stored). */
const plain = (c: FadedCounts): FadedCounts => ({ ok: c.ok, bad: c.bad, at: c.at });

/** Posterior parameters of a Beta distribution. */
export interface BetaParameters {
    a: number;
    b: number;
}

/** How much of counts written at `at` is left at `now`. */
function fadeFactor(at: number, now: number, halfLifeMillis: number): number {
    const dt = Math.max(0, now - at);
    return dt === 0 ? 1 : 2 ** (-dt / halfLifeMillis);
}

/**
 * {@link fadeFactor} for one half-life, remembering the last factor by its time span: on a report a proxy's records
 * everywhere and on its site, or a run's uses, usually share one, and `**` costs more than the rest of a good use.
 */
export class Fade {
    private lastMillis = 0;
    private lastFactor = 1;

    constructor(private readonly halfLifeMillis: number) {}

    factor(at: number, now: number): number {
        const dt = Math.max(0, now - at);
        if (dt !== this.lastMillis) {
            this.lastMillis = dt;
            this.lastFactor = 2 ** (-dt / this.halfLifeMillis);
        }
        return this.lastFactor;
    }
}

function faded(c: FadedCounts, now: number, halfLifeMillis: number): { ok: number; bad: number } {
    const f = fadeFactor(c.at, now, halfLifeMillis);
    return { ok: c.ok * f, bad: c.bad * f };
}

/** Per (proxy, site) health with recency; see the module comment. */
export class FadingHealth {
    private readonly entries = new Map<string, Entry>();
    /** Per site: how the first use of each proxy there went (the base rate an untried proxy starts from). */
    private readonly firstUses = new Map<string, { ok: number; bad: number }>();
    private readonly options: ResolvedHealthOptions;
    /** Fades counts by the half-life (see {@link Fade}). */
    private readonly fading: Fade;
    /** Where the site counts live (the entries' `sites` are views on it): the learner's, so callers holding a pair read them directly. */
    private readonly pairs: Pairs;

    /** `pairs`: the learner's interning (callers holding a pair read its counts directly). */
    constructor(options: HealthOptions = {}, pairs?: Pairs) {
        this.options = { ...DEFAULT_HEALTH_OPTIONS, ...options };
        this.fading = new Fade(this.options.halfLifeMillis);
        this.pairs = pairs ?? new Pairs();
    }

    /** The start of the pair's numbers in `pairs.num` (`pair`: the caller's, when of this interning). */
    private baseOf(proxyId: string, site: string, pair: Pair | undefined): number {
        return PAIR_STRIDE * (pair?.owner === this.pairs ? pair : this.pairs.of(proxyId, site)).index;
    }

    /** Gives the pair counts on its site (`counts`, or none yet as of `at`), with the view in the proxy's entry. */
    private putCounts(e: Entry, site: string, b: number, ok: number, bad: number, at: number): void {
        const num = this.pairs.num;
        num[b + PAIR_OK] = ok;
        num[b + PAIR_BAD] = bad;
        num[b + PAIR_AT] = at;
        if (!(num[b + PAIR_HAS]! & HAS_COUNTS)) {
            num[b + PAIR_HAS] = num[b + PAIR_HAS]! | HAS_COUNTS;
            e.sites.set(site, new SiteCounts(this.pairs, b));
        }
    }

    /** Takes the pair's counts on its site away. */
    private dropCounts(e: Entry | undefined, proxyId: string, site: string): void {
        e?.sites.delete(site);
        const p = this.pairs.find(proxyId, site);
        if (p) this.pairs.num[PAIR_STRIDE * p.index + PAIR_HAS] = this.pairs.num[PAIR_STRIDE * p.index + PAIR_HAS]! & ~HAS_COUNTS;
    }

    private entry(proxyId: string): Entry {
        let e = this.entries.get(proxyId);
        if (!e) {
            e = this.newEntry(proxyId, 0, 0, 0);
            this.entries.set(proxyId, e);
        }
        return e;
    }

    /** A proxy's entry with its counts everywhere. */
    private newEntry(proxyId: string, ok: number, bad: number, at: number): Entry {
        const g = this.baseOf(proxyId, EVERYWHERE, undefined);
        const num = this.pairs.num;
        num[g + PAIR_OK] = ok;
        num[g + PAIR_BAD] = bad;
        num[g + PAIR_AT] = at;
        return { global: new SiteCounts(this.pairs, g), g, sites: new Map() };
    }

    /** Records one judged use: `good` for a success, otherwise a failure the proxy was blamed for. */
    record(proxyId: string, site: string, good: boolean, now: number, pair?: Pair): void {
        const weight = good ? 1 : this.options.failureWeight;
        const e = this.entry(proxyId);
        const b = this.baseOf(proxyId, site, pair);
        if (!(this.pairs.num[b + PAIR_HAS]! & HAS_COUNTS)) {
            this.putCounts(e, site, b, 0, 0, now);
            const first = this.firstUses.get(site) ?? { ok: 0, bad: 0 };
            if (good) first.ok++;
            else first.bad++;
            this.firstUses.set(site, first);
        }
        this.add(e.g, good, weight, now);
        this.add(b, good, weight, now);
    }

    /** Fades the counts at `b` (in the pairs' numbers) to `now`, discounts them by one outcome and adds this one. */
    private add(b: number, good: boolean, weight: number, now: number): void {
        const num = this.pairs.num;
        const f = this.fading.factor(num[b + PAIR_AT]!, now);
        const d = this.options.discountPerOutcome;
        num[b + PAIR_OK] = num[b + PAIR_OK]! * f * d + (good ? weight : 0);
        num[b + PAIR_BAD] = num[b + PAIR_BAD]! * f * d + (good ? 0 : weight);
        num[b + PAIR_AT] = now;
    }

    /** The posterior on `site`: the site's faded counts plus the proxy's record everywhere as a prior. */
    posterior(proxyId: string, site: string, now: number): BetaParameters {
        this.computePosterior(proxyId, site, now);
        return { a: this.a, b: this.b };
    }

    /** Scratch result of {@link computePosterior} (a draw per acquire allocates nothing). */
    private a = 0;
    private b = 0;

    private computePosterior(proxyId: string, site: string, now: number, pair?: Pair): void {
        const e = this.entries.get(proxyId);
        const { priorWeight } = this.options;
        let gOk = 0;
        let gBad = 0;
        if (e) {
            const num = this.pairs.num;
            const f = this.fading.factor(num[e.g + PAIR_AT]!, now);
            gOk = num[e.g + PAIR_OK]! * f;
            gBad = num[e.g + PAIR_BAD]! * f;
        }
        // Prior: the proxy's record everywhere; for a proxy never used anywhere, how first uses went on this site.
        // (The site's base rate is looked up only when it is used: the table is by site, cold with many pools.)
        const base = gOk + gBad > 0.01 ? undefined : this.firstUses.get(site);
        const prior = !base ? (gOk + 1) / (gOk + gBad + 2) : (base.ok + 1) / (base.ok + base.bad + 2);
        let ok = 0;
        let bad = 0;
        if (pair?.owner === this.pairs) {
            const num = this.pairs.num;
            const b = PAIR_STRIDE * pair.index;
            if (num[b + PAIR_HAS]! & HAS_COUNTS) {
                const f = this.fading.factor(num[b + PAIR_AT]!, now);
                ok = num[b + PAIR_OK]! * f;
                bad = num[b + PAIR_BAD]! * f;
            }
        } else {
            const s = e?.sites.get(site);
            if (s) {
                const f = this.fading.factor(s.at, now);
                ok = s.ok * f;
                bad = s.bad * f;
            }
        }
        this.a = ok + priorWeight * prior + 0.5;
        this.b = bad + priorWeight * (1 - prior) + 0.5;
    }

    /** Expected chance that a use of this proxy on this site goes well. */
    mean(proxyId: string, site: string, now: number, pair?: Pair): number {
        this.computePosterior(proxyId, site, now, pair);
        return this.a / (this.a + this.b);
    }

    /** A draw from the posterior (Thompson sampling). */
    sample(proxyId: string, site: string, now: number, random: Random, pair?: Pair): number {
        this.computePosterior(proxyId, site, now, pair);
        return sampleBeta(this.a, this.b, random);
    }

    /** Faded number of judged uses on this site (how much the posterior knows). */
    trials(proxyId: string, site: string, now: number, pair?: Pair): number {
        if (pair?.owner === this.pairs) {
            const num = this.pairs.num;
            const b = PAIR_STRIDE * pair.index;
            if (!(num[b + PAIR_HAS]! & HAS_COUNTS)) return 0;
            const f = fadeFactor(num[b + PAIR_AT]!, now, this.options.halfLifeMillis);
            return num[b + PAIR_OK]! * f + num[b + PAIR_BAD]! * f;
        }
        const s = this.entries.get(proxyId)?.sites.get(site);
        if (!s) return 0;
        const c = faded(s, now, this.options.halfLifeMillis);
        return c.ok + c.bad;
    }

    /** Proxies judged on `site` at least once in this run (restored records not counted until used again). */
    proxiesOn(site: string): number {
        const first = this.firstUses.get(site);
        return first ? first.ok + first.bad : 0;
    }

    /** Plain-data snapshot (proxy ids only, never URLs); counts below 0.01 are dropped. */
    toJSON(): PersistedFadedHealth {
        const out: PersistedFadedHealth = {};
        for (const [id, e] of this.entries) {
            const sites: Record<string, FadedCounts> = {};
            for (const [site, c] of e.sites) if (c.ok + c.bad >= 0.01) sites[site] = plain(c);
            out[id] = { global: plain(e.global), sites };
        }
        return out;
    }

    /** The stored counts of one proxy on `site` (`'*'`: everywhere), or undefined (a shared store's record). */
    countsOf(proxyId: string, site: string): FadedCounts | undefined {
        const e = this.entries.get(proxyId);
        const c = site === '*' ? e?.global : e?.sites.get(site);
        // An entry's empty global record (nothing judged anywhere yet) is nothing to share.
        return c && (c.ok !== 0 || c.bad !== 0 || c.at !== 0) ? plain(c) : undefined;
    }

    /** Replaces the counts of one proxy on `site` (`'*'`: everywhere) with merged ones; undefined clears a site's. */
    replaceCounts(proxyId: string, site: string, counts: FadedCounts | undefined): void {
        const e = this.entry(proxyId);
        if (site === '*') {
            e.global.ok = counts?.ok ?? 0;
            e.global.bad = counts?.bad ?? 0;
            e.global.at = counts?.at ?? 0;
        } else if (counts) this.putCounts(e, site, this.baseOf(proxyId, site, undefined), counts.ok, counts.bad, counts.at);
        else this.dropCounts(e, proxyId, site);
    }

    /** Restores a snapshot of {@link toJSON}; counts keep fading from the time they were written. */
    restore(data: PersistedFadedHealth): void {
        for (const [id, e] of Object.entries(data)) {
            const old = this.entries.get(id);
            for (const site of [...(old?.sites.keys() ?? [])]) this.dropCounts(old, id, site);
            const entry = this.newEntry(id, e.global.ok, e.global.bad, e.global.at);
            for (const [site, c] of Object.entries(e.sites)) this.putCounts(entry, site, this.baseOf(id, site, undefined), c.ok, c.bad, c.at);
            this.entries.set(id, entry);
        }
    }
}
