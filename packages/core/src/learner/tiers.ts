/**
 * Tiers of `ProxyConfiguration({ tieredProxyUrls })`: per site, new sessions take proxies of the cheapest tier that
 * works there. The site moves one tier up when its current tier keeps being blocked (`blockedToMoveUp` proxy-blamed
 * blocks without a success in between) or has no usable proxy left; later it probes the tier below with one session
 * (after `probeLowerAfterMillis`, doubling after each failed probe) and moves back down when that probe succeeds.
 * Uses per tier are counted per site for the stats.
 */

/** How tiers are climbed (`learner.tiers` option). */
export interface TierOptions {
    /** Proxy-blamed blocks in a row on a site's current tier that move the site one tier up. @default 3 */
    blockedToMoveUp?: number;
    /** First wait before the tier below is probed again, in milliseconds; it doubles per failed probe. @default 60000 */
    probeLowerAfterMillis?: number;
    /** Cap of that wait, in milliseconds. @default 1800000 (30 minutes) */
    maxProbeLowerAfterMillis?: number;
}

export type ResolvedTierOptions = Required<TierOptions>;

export const DEFAULT_TIER_OPTIONS: ResolvedTierOptions = { blockedToMoveUp: 3, probeLowerAfterMillis: 60_000, maxProbeLowerAfterMillis: 1_800_000 };

/** A probe whose use never reported back (its session vanished) is given up after this long. */
const PROBE_STALE_MILLIS = 300_000;

interface SiteTiers {
    current: number;
    blockedInRow: number;
    /** When the tier below may be probed (epoch millis). */
    probeLowerAt: number;
    failedProbes: number;
    /** The proxy of the probe session on the tier below, while its verdict is out. */
    probeProxy: string | undefined;
    probeStartedAt: number;
    /** Uses per tier on this site (this run only). */
    uses: number[];
}

/** Persisted tier state of one site. */
export interface PersistedTiers {
    current: number;
    probeLowerAt: number;
    failedProbes: number;
}

/** How the current tier of a site changed (for the log). */
export interface TierMove {
    site: string;
    from: number;
    to: number;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Which tier a site's new sessions use; one per manager. */
export class TierLadder {
    private readonly sites = new Map<string, SiteTiers>();
    private readonly options: ResolvedTierOptions;

    constructor(
        readonly tierCount: number,
        options: TierOptions = {},
    ) {
        this.options = { ...DEFAULT_TIER_OPTIONS, ...options };
    }

    private site(site: string): SiteTiers {
        let s = this.sites.get(site);
        if (!s) {
            s = { current: 0, blockedInRow: 0, probeLowerAt: 0, failedProbes: 0, probeProxy: undefined, probeStartedAt: 0, uses: new Array<number>(this.tierCount).fill(0) };
            this.sites.set(site, s);
        }
        return s;
    }

    /** The tier the site is on. */
    current(site: string): number {
        return this.site(site).current;
    }

    /** Whether the next new session on `site` should probe the tier below (the site is above tier 0, no probe is out, its time came). */
    probeDue(site: string, now: number): boolean {
        const s = this.site(site);
        if (s.probeProxy !== undefined && now - s.probeStartedAt >= PROBE_STALE_MILLIS) this.release(s, now);
        return s.current > 0 && s.probeProxy === undefined && now >= s.probeLowerAt;
    }

    /** A new session on `proxyId` (of the tier below) is the probe: its first verdict on the site decides. */
    startProbe(site: string, proxyId: string, now: number): void {
        const s = this.site(site);
        s.probeProxy = proxyId;
        s.probeStartedAt = now;
    }

    /** Whether a use of `proxyId` on `site` is the probe's. */
    isProbe(site: string, proxyId: string): boolean {
        return this.sites.get(site)?.probeProxy === proxyId;
    }

    /** The probe could not be made (no usable proxy in the tier below): try again later, as after a failed probe. */
    probeNotPossible(site: string, now: number): void {
        this.failProbe(this.site(site), now);
    }

    /**
     * The probe's use ended without a verdict the ladder takes (rate-limited, a target or handler error, a site-wide
     * block): probe again after the base wait, without counting it as failed.
     */
    probeInconclusive(site: string, proxyId: string, now: number): void {
        const s = this.site(site);
        if (s.probeProxy === proxyId) this.release(s, now);
    }

    /** The site's current tier has no usable proxy left: move up (if there is a tier above). */
    exhausted(site: string, tier: number, now: number): void {
        const s = this.site(site);
        if (tier === s.current) this.moveUp(s, now);
    }

    /** Counts one use of a proxy of `tier` on `site` (stats). */
    countUse(site: string, tier: number): void {
        if (tier >= 0 && tier < this.tierCount) this.site(site).uses[tier]!++;
    }

    /** Uses per tier on `site` in this run. */
    uses(site: string): readonly number[] {
        return this.site(site).uses;
    }

    /**
     * The outcome of a use of a proxy of `tier` on `site`: `good`, or a block the proxy was blamed for (`blamed`).
     * Other outcomes are not reported. `probe` marks the probe's verdict ({@link isProbe}).
     */
    onOutcome(site: string, tier: number, outcome: 'good' | 'blamed', now: number, probe = false): void {
        const s = this.site(site);
        if (probe && s.probeProxy !== undefined) {
            s.probeProxy = undefined;
            if (outcome === 'good' && tier < s.current) {
                s.current = tier;
                s.blockedInRow = 0;
                s.failedProbes = 0;
                s.probeLowerAt = now + this.options.probeLowerAfterMillis;
            } else if (outcome !== 'good') {
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
        s.probeProxy = undefined;
        s.probeLowerAt = now + this.options.probeLowerAfterMillis;
    }

    private release(s: SiteTiers, now: number): void {
        s.probeProxy = undefined;
        s.probeLowerAt = now + this.options.probeLowerAfterMillis;
    }

    private failProbe(s: SiteTiers, now: number): void {
        s.probeProxy = undefined;
        s.failedProbes++;
        const wait = Math.min(this.options.maxProbeLowerAfterMillis, this.options.probeLowerAfterMillis * 2 ** Math.min(20, s.failedProbes));
        s.probeLowerAt = now + wait;
    }

    /** Sites above tier 0 or with a probe history (the others are at their default). */
    toJSON(): Record<string, PersistedTiers> {
        const out: Record<string, PersistedTiers> = {};
        for (const [site, s] of this.sites) {
            if (s.current > 0 || s.failedProbes > 0) out[site] = { current: s.current, probeLowerAt: s.probeLowerAt, failedProbes: s.failedProbes };
        }
        return out;
    }

    /** Restores {@link toJSON}'s data; malformed entries are skipped, tiers beyond today's count are clamped. */
    restore(data: Record<string, PersistedTiers>): void {
        for (const [site, p] of Object.entries(data)) {
            if (!p || !finite(p.current) || !finite(p.probeLowerAt) || !finite(p.failedProbes)) continue;
            const s = this.site(site);
            s.current = Math.min(Math.max(0, Math.floor(p.current)), this.tierCount - 1);
            s.blockedInRow = 0;
            s.probeLowerAt = p.probeLowerAt;
            s.failedProbes = Math.max(0, Math.floor(p.failedProbes));
            s.probeProxy = undefined;
        }
    }
}
