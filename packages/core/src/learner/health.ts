/**
 * Proxy health with recency: per (proxy, site) a Beta posterior over "a use goes well" whose counts fade, by time
 * (half-life) and by newer outcomes (each outcome discounts the older ones), with the proxy's record on every site as
 * the prior (for a proxy never used anywhere: how the first uses of proxies went on that site). Old evidence fades, so a proxy that burns loses its lead after a block or two and one that recovered is
 * back in the running soon. `sample()` draws from the posterior: Thompson sampling, exploration included.
 */
import { sampleBeta, type Random } from './beta.js';
import { PairMap, type Pair, type Pairs } from './pair-map.js';

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
    global: FadedCounts;
    sites: Map<string, FadedCounts>;
}

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
    /** The entries' site counts again by (proxy, site): the same objects, for callers holding a pair. */
    private readonly siteCounts: PairMap<FadedCounts>;

    /** `pairs`: the learner's interning (callers holding a pair read its counts directly). */
    constructor(options: HealthOptions = {}, pairs?: Pairs) {
        this.options = { ...DEFAULT_HEALTH_OPTIONS, ...options };
        this.siteCounts = new PairMap<FadedCounts>(pairs);
    }

    private entry(proxyId: string): Entry {
        let e = this.entries.get(proxyId);
        if (!e) {
            e = { global: { ok: 0, bad: 0, at: 0 }, sites: new Map() };
            this.entries.set(proxyId, e);
        }
        return e;
    }

    /** Records one judged use: `good` for a success, otherwise a failure the proxy was blamed for. */
    record(proxyId: string, site: string, good: boolean, now: number, pair?: Pair): void {
        const weight = good ? 1 : this.options.failureWeight;
        const e = this.entry(proxyId);
        let s = pair ? this.siteCounts.at(pair) : e.sites.get(site);
        if (!s) {
            s = { ok: 0, bad: 0, at: now };
            e.sites.set(site, s);
            this.siteCounts.set(proxyId, site, s);
            const first = this.firstUses.get(site) ?? { ok: 0, bad: 0 };
            if (good) first.ok++;
            else first.bad++;
            this.firstUses.set(site, first);
        }
        this.add(e.global, good, weight, now);
        this.add(s, good, weight, now);
    }

    /** The last fade computed, by its time span (a proxy's records everywhere and on a site often share one). */
    private fadeMillis = 0;
    private fadeBy = 1;

    /** {@link fadeFactor} with this health's half-life, remembering the last one (`**` costs more than the rest here). */
    private fade(at: number, now: number): number {
        const dt = Math.max(0, now - at);
        if (dt !== this.fadeMillis) {
            this.fadeMillis = dt;
            this.fadeBy = fadeFactor(at, now, this.options.halfLifeMillis);
        }
        return this.fadeBy;
    }

    /** Fades `c` to `now`, discounts it by one outcome and adds this one. */
    private add(c: FadedCounts, good: boolean, weight: number, now: number): void {
        const f = this.fade(c.at, now);
        const d = this.options.discountPerOutcome;
        c.ok = c.ok * f * d + (good ? weight : 0);
        c.bad = c.bad * f * d + (good ? 0 : weight);
        c.at = now;
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
            const f = this.fade(e.global.at, now);
            gOk = e.global.ok * f;
            gBad = e.global.bad * f;
        }
        // Prior: the proxy's record everywhere; for a proxy never used anywhere, how first uses went on this site.
        // (The site's base rate is looked up only when it is used: the table is by site, cold with many pools.)
        const base = gOk + gBad > 0.01 ? undefined : this.firstUses.get(site);
        const prior = !base ? (gOk + 1) / (gOk + gBad + 2) : (base.ok + 1) / (base.ok + base.bad + 2);
        const s = pair ? this.siteCounts.at(pair) : e?.sites.get(site);
        let ok = 0;
        let bad = 0;
        if (s) {
            const f = this.fade(s.at, now);
            ok = s.ok * f;
            bad = s.bad * f;
        }
        this.a = ok + priorWeight * prior + 0.5;
        this.b = bad + priorWeight * (1 - prior) + 0.5;
    }

    /** Expected chance that a use of this proxy on this site goes well. */
    mean(proxyId: string, site: string, now: number): number {
        this.computePosterior(proxyId, site, now);
        return this.a / (this.a + this.b);
    }

    /** A draw from the posterior (Thompson sampling). */
    sample(proxyId: string, site: string, now: number, random: Random, pair?: Pair): number {
        this.computePosterior(proxyId, site, now, pair);
        return sampleBeta(this.a, this.b, random);
    }

    /** Faded number of judged uses on this site (how much the posterior knows). */
    trials(proxyId: string, site: string, now: number, pair?: Pair): number {
        const s = pair ? this.siteCounts.at(pair) : this.entries.get(proxyId)?.sites.get(site);
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
            for (const [site, c] of e.sites) if (c.ok + c.bad >= 0.01) sites[site] = { ...c };
            out[id] = { global: { ...e.global }, sites };
        }
        return out;
    }

    /** The stored counts of one proxy on `site` (`'*'`: everywhere), or undefined (a shared store's record). */
    countsOf(proxyId: string, site: string): FadedCounts | undefined {
        const e = this.entries.get(proxyId);
        const c = site === '*' ? e?.global : e?.sites.get(site);
        // An entry's empty global record (nothing judged anywhere yet) is nothing to share.
        return c && (c.ok !== 0 || c.bad !== 0 || c.at !== 0) ? { ...c } : undefined;
    }

    /** Replaces the counts of one proxy on `site` (`'*'`: everywhere) with merged ones; undefined clears a site's. */
    replaceCounts(proxyId: string, site: string, counts: FadedCounts | undefined): void {
        const e = this.entry(proxyId);
        if (site === '*') e.global = counts ? { ...counts } : { ok: 0, bad: 0, at: 0 };
        else if (counts) {
            const c = { ...counts };
            e.sites.set(site, c);
            this.siteCounts.set(proxyId, site, c);
        } else {
            e.sites.delete(site);
            this.siteCounts.delete(proxyId, site);
        }
    }

    /** Restores a snapshot of {@link toJSON}; counts keep fading from the time they were written. */
    restore(data: PersistedFadedHealth): void {
        for (const [id, e] of Object.entries(data)) {
            for (const site of this.entries.get(id)?.sites.keys() ?? []) this.siteCounts.delete(id, site);
            const sites = new Map(Object.entries(e.sites).map(([k, v]) => [k, { ...v }]));
            for (const [site, c] of sites) this.siteCounts.set(id, site, c);
            this.entries.set(id, { global: { ...e.global }, sites });
        }
    }
}
