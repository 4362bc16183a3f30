/**
 * Tiers of `ProxyConfiguration({ tieredProxyUrls })`: per site, new sessions take proxies of the cheapest tier that
 * works there. The site moves one tier up when its current tier keeps being blocked (`blockedToMoveUp` proxy-blamed
 * blocks without a success in between) or has no usable proxy left; later it probes the tier below with one session
 * (after `probeLowerAfterMillis`, doubling after each failed probe) and moves back down when that probe succeeds.
 * Uses per tier are counted for the stats.
 */

/** How tiers are climbed (`learner.tiers` option). */
export interface TierOptions {
    /** Proxy-blamed blocks in a row on a site's tier that move the site one tier up. @default 3 */
    blockedToMoveUp?: number;
    /** First wait before the tier below is probed again, in milliseconds; it doubles per failed probe. @default 60000 */
    probeLowerAfterMillis?: number;
    /** Cap of that wait, in milliseconds. @default 1800000 (30 minutes) */
    maxProbeLowerAfterMillis?: number;
}

export type ResolvedTierOptions = Required<TierOptions>;

export const DEFAULT_TIER_OPTIONS: ResolvedTierOptions = { blockedToMoveUp: 3, probeLowerAfterMillis: 60_000, maxProbeLowerAfterMillis: 1_800_000 };

interface SiteTiers {
    current: number;
    blockedInRow: number;
    /** When the tier below may be probed (epoch millis). */
    probeLowerAt: number;
    failedProbes: number;
    /** A probe session on the tier below is out. */
    probing: boolean;
}

/** Persisted tier state of one site. */
export interface PersistedTiers {
    current: number;
    probeLowerAt: number;
    failedProbes: number;
}

/** Which tier a site's new sessions use; one per manager. */
export class TierLadder {
    private readonly sites = new Map<string, SiteTiers>();
    private readonly options: ResolvedTierOptions;
    /** Uses per tier, over all sites (stats). */
    readonly usesPerTier: number[];

    constructor(
        readonly tierCount: number,
        options: TierOptions = {},
    ) {
        this.options = { ...DEFAULT_TIER_OPTIONS, ...options };
        this.usesPerTier = new Array<number>(tierCount).fill(0);
    }

    private site(site: string): SiteTiers {
        let s = this.sites.get(site);
        if (!s) {
            s = { current: 0, blockedInRow: 0, probeLowerAt: 0, failedProbes: 0, probing: false };
            this.sites.set(site, s);
        }
        return s;
    }

    /** The tier the site is on. */
    current(site: string): number {
        return this.site(site).current;
    }

    /**
     * The tier a new session on `site` should take its proxy from now: the current tier, or the one below when its
     * probe is due (then that session is the probe: report its outcome with `probe: true`).
     */
    tierForNewSession(site: string, now: number): { tier: number; probe: boolean } {
        const s = this.site(site);
        if (s.current > 0 && !s.probing && now >= s.probeLowerAt) {
            s.probing = true;
            return { tier: s.current - 1, probe: true };
        }
        return { tier: s.current, probe: false };
    }

    /** Call when the probe session could not be created (no usable proxy in the tier below): try again later. */
    probeNotPossible(site: string, now: number): void {
        this.failProbe(this.site(site), now);
    }

    /** The site's current tier has no usable proxy left: move up (if there is a tier above). */
    exhausted(site: string, tier: number, now: number): void {
        const s = this.site(site);
        if (tier === s.current) this.moveUp(s, now);
    }

    /**
     * The outcome of a use of a proxy of `tier` on `site`: `good`, or a block the proxy was blamed for (`blamed`).
     * Other outcomes are not reported. `probe` marks the outcome of the probe session's first use.
     */
    onOutcome(site: string, tier: number, outcome: 'good' | 'blamed', now: number, probe = false): void {
        if (tier >= 0 && tier < this.tierCount) this.usesPerTier[tier]!++;
        const s = this.site(site);
        if (probe && s.probing) {
            s.probing = false;
            if (outcome === 'good') {
                s.current = tier;
                s.blockedInRow = 0;
                s.failedProbes = 0;
                s.probeLowerAt = now + this.options.probeLowerAfterMillis;
            } else {
                this.failProbe(s, now);
            }
            return;
        }
        if (tier !== s.current) return;
        if (outcome === 'good') s.blockedInRow = 0;
        else if (++s.blockedInRow >= this.options.blockedToMoveUp) this.moveUp(s, now);
    }

    private moveUp(s: SiteTiers, now: number): void {
        if (s.current + 1 >= this.tierCount) return;
        s.current++;
        s.blockedInRow = 0;
        s.failedProbes = 0;
        s.probeLowerAt = now + this.options.probeLowerAfterMillis;
    }

    private failProbe(s: SiteTiers, now: number): void {
        s.probing = false;
        s.failedProbes++;
        const wait = Math.min(this.options.maxProbeLowerAfterMillis, this.options.probeLowerAfterMillis * 2 ** Math.min(20, s.failedProbes));
        s.probeLowerAt = now + wait;
    }

    toJSON(): Record<string, PersistedTiers> {
        const out: Record<string, PersistedTiers> = {};
        for (const [site, s] of this.sites) out[site] = { current: s.current, probeLowerAt: s.probeLowerAt, failedProbes: s.failedProbes };
        return out;
    }

    restore(data: Record<string, PersistedTiers>): void {
        for (const [site, p] of Object.entries(data)) {
            this.sites.set(site, { current: Math.min(Math.max(0, p.current), this.tierCount - 1), blockedInRow: 0, probeLowerAt: p.probeLowerAt, failedProbes: p.failedProbes, probing: false });
        }
    }
}
