/**
 * Learned wear per site: when proxies are consistently blocked after about N good uses of the proxy (all its sessions
 * together) since its last block, the site counts pages per IP and bans an IP past N ("IPs burn after ~N pages").
 * A proxy that reaches the learned limit is rested: its session is retired and new sessions prefer proxies with
 * wear left, so the load spreads before a proxy burns instead of after. A rested proxy stays usable (it is only
 * ranked low), so a crawl never waits on wear alone; its count fades with time, so nothing is rested for good.
 *
 * The limit is learned like the session cap ({@link CapLearner}): the low end of the largest cluster of agreeing
 * observations, bounded below, with expiring observations; its spread is wider by default (per-IP quotas vary more
 * between IPs than per-cookie caps between sessions). Blocks at first use end no run worth observing.
 */
import { CapLearner, type CapOptions } from './cap.js';
import { Fade } from './health.js';
import { HAS_RUN, PAIR_HAS, PAIR_STRIDE, Pairs, RUN_AT, RUN_RESTED, RUN_USES, type Pair } from './pair-map.js';

/** How wear is learned (`learner.wear` option); the {@link CapOptions} knobs apply to the observed run lengths. */
export interface WearOptions extends CapOptions {
    /** Half-life of a proxy's count of good uses since its last block, in milliseconds. @default 600000 (10 minutes) */
    runHalfLifeMillis?: number;
}

/** Defaults of {@link WearOptions} (the cap knobs differ from the session cap's only in `maxSpread`). */
export const DEFAULT_WEAR_OPTIONS: Required<WearOptions> = {
    minObservations: 3,
    keep: 8,
    minCap: 5,
    maxSpread: 1.5,
    minShare: 0.5,
    forgetAfterMillis: 1_800_000,
    runHalfLifeMillis: 600_000,
};

/** A rested proxy's Thompson draw is multiplied by this (it is picked only when no proxy with wear left is). */
export const WORN_SCORE_FACTOR = 0.1;

export class WearLearner {
    /**
     * Per (proxy, site), in the pair's numbers (`HAS_RUN`, `RUN_USES`, `RUN_AT`, `RUN_RESTED`): the current run, updated
     * in place on every good use (this runs on every report): good uses since the last block, as of when.
     */
    private readonly pairs: Pairs;
    private readonly limits = new Map<string, CapLearner>();
    private readonly options: Required<WearOptions>;
    /** Fades a run's uses by `runHalfLifeMillis` (see {@link Fade}). */
    private readonly fading: Fade;

    /** `pairs`: the learner's interning (callers holding a pair read its record directly). */
    constructor(options: WearOptions = {}, pairs?: Pairs) {
        this.options = { ...DEFAULT_WEAR_OPTIONS, ...options };
        this.fading = new Fade(this.options.runHalfLifeMillis);
        this.pairs = pairs ?? new Pairs();
    }

    private limitOf(site: string): CapLearner {
        let c = this.limits.get(site);
        if (!c) {
            c = new CapLearner(this.options);
            this.limits.set(site, c);
        }
        return c;
    }

    /** Good uses of the proxy on the site since its last block, faded by time. */
    uses(proxyId: string, site: string, now: number, pair?: Pair): number {
        const p = pair?.owner === this.pairs ? pair : this.pairs.find(proxyId, site);
        if (!p || !(this.pairs.num[PAIR_STRIDE * p.index + PAIR_HAS]! & HAS_RUN)) return 0;
        return this.fadedUses(PAIR_STRIDE * p.index, now);
    }

    /** The faded uses of the run of the pair whose numbers start at `b`. */
    private fadedUses(b: number, now: number): number {
        const num = this.pairs.num;
        return num[b + RUN_USES]! * this.fading.factor(num[b + RUN_AT]!, now);
    }

    /** The learned wear limit of proxies on the site, if any. */
    limit(site: string, now: number): number | undefined {
        // No limit learned on any site (the usual case): nothing to look up (this runs on every draw and good use).
        return this.limits.size === 0 ? undefined : this.limits.get(site)?.cap(now);
    }

    /** Whether the proxy reached the site's wear limit (rest it). */
    worn(proxyId: string, site: string, now: number, pair?: Pair): boolean {
        const limit = this.limit(site, now);
        return limit !== undefined && Math.round(this.uses(proxyId, site, now, pair)) >= limit;
    }

    /**
     * A good use; returns the limit when the proxy has reached it (retire its session now), once per run: a rested
     * proxy used again because nothing fresher was usable keeps its next session.
     */
    onGood(proxyId: string, site: string, now: number, pair?: Pair): number | undefined {
        const b = PAIR_STRIDE * (pair?.owner === this.pairs ? pair : this.pairs.of(proxyId, site)).index;
        const num = this.pairs.num;
        const has = num[b + PAIR_HAS]!;
        num[b + RUN_USES] = has & HAS_RUN ? this.fadedUses(b, now) + 1 : 1;
        num[b + RUN_AT] = now;
        if (!(has & HAS_RUN)) num[b + PAIR_HAS] = (has | HAS_RUN) & ~RUN_RESTED;
        const limit = this.limit(site, now);
        if (limit === undefined || Math.round(num[b + RUN_USES]!) < limit || num[b + PAIR_HAS]! & RUN_RESTED) return undefined;
        num[b + PAIR_HAS] = num[b + PAIR_HAS]! | RUN_RESTED;
        return limit;
    }

    /** A block the proxy was blamed for: its run ended there (an observation of the site's limit), and starts over. */
    onBlamed(proxyId: string, site: string, now: number): void {
        const p = this.pairs.find(proxyId, site);
        if (!p) return;
        const b = PAIR_STRIDE * p.index;
        const num = this.pairs.num;
        if (num[b + PAIR_HAS]! & HAS_RUN) this.limitOf(site).observe(Math.round(this.fadedUses(b, now)), now);
        num[b + PAIR_HAS] = num[b + PAIR_HAS]! & ~(HAS_RUN | RUN_RESTED);
    }
}
