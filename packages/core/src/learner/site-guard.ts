/**
 * Blocks that are the site's or the check's fault. When many distinct proxies were blocked on one site within a short
 * window and none of its uses succeeded meanwhile, no proxy is to blame: the site is down, blocks everyone for a
 * while, or the user's check rejects good pages. The guard then pauses the pool (briefly, doubling while it
 * persists); once a second pause confirms it (still no success), it says which proxies the episode's blocks must not
 * count against; and if it lasts too long, it gives the reason to stop the crawl with.
 */

/** When blocks are the site's fault (`learner.siteWide` option). */
export interface SiteGuardOptions {
    /** Blocks older than this do not count toward an episode, in milliseconds. @default 10000 */
    windowMillis?: number;
    /** Distinct proxies blocked since the last success on the site (within the window) that make it site-wide. @default 8 */
    minProxies?: number;
    /** First pause of the pool, in milliseconds; it doubles while blocks stay site-wide. @default 2000 */
    pauseMillis?: number;
    /** Cap of one pause, in milliseconds. @default 30000 */
    maxPauseMillis?: number;
    /** A site-wide episode lasting this long stops the crawl with the site's reason, in milliseconds. @default 60000 */
    stopAfterMillis?: number;
}

export type ResolvedSiteGuardOptions = Required<SiteGuardOptions>;

export const DEFAULT_SITE_GUARD: ResolvedSiteGuardOptions = {
    windowMillis: 10_000,
    minProxies: 8,
    pauseMillis: 2_000,
    maxPauseMillis: 30_000,
    stopAfterMillis: 60_000,
};

/** What the guard says about one outcome. */
export interface SiteVerdict {
    /** The blocks in the window are the site's (or the check's) fault. */
    siteWide: boolean;
    /** Proxies whose latest blocks fall in the episode: do not count them (undo what they were charged). */
    absolve: string[];
    /** Set when this outcome started or extended a pause: the pool waits until then. */
    pauseUntil?: number;
    /** Set when the episode has lasted `stopAfterMillis`: stop the crawl with this reason. */
    stop?: string;
    /** A line for the log when a pause starts. */
    message?: string;
}

/** One per (site) pool; see the module comment. */
export class SiteGuard {
    /** Proxies blocked since the last success on the site, with the time of their latest block. */
    private readonly blockedSinceSuccess = new Map<string, number>();
    /** Every proxy blocked during the current episode. */
    private readonly episodeBlocked = new Set<string>();
    private readonly options: ResolvedSiteGuardOptions;
    private episodeStart: number | undefined;
    private pauses = 0;
    private pausedUntil = 0;

    constructor(
        private readonly site: string,
        options: SiteGuardOptions = {},
    ) {
        this.options = { ...DEFAULT_SITE_GUARD, ...options };
    }

    /** Until when the pool is paused (0: not paused). */
    get pauseDeadline(): number {
        return this.pausedUntil;
    }

    /** Whether a site-wide episode is going on. */
    get inEpisode(): boolean {
        return this.episodeStart !== undefined;
    }

    /** Records the latest use of `proxyId` on the site: blocked or not (any other judged outcome). */
    observe(proxyId: string, blocked: boolean, now: number): SiteVerdict {
        if (!blocked) {
            this.blockedSinceSuccess.clear();
            this.episodeStart = undefined;
            this.episodeBlocked.clear();
            this.pauses = 0;
            return { siteWide: false, absolve: [] };
        }
        this.blockedSinceSuccess.set(proxyId, now);
        const { windowMillis, minProxies } = this.options;
        for (const [id, at] of this.blockedSinceSuccess) if (at <= now - windowMillis) this.blockedSinceSuccess.delete(id);
        // Site-wide: since the last success on the site, at least minProxies distinct proxies were blocked in the window.
        if (this.episodeStart === undefined && this.blockedSinceSuccess.size < minProxies) return { siteWide: false, absolve: [] };
        this.episodeStart ??= now;
        for (const id of this.blockedSinceSuccess.keys()) this.episodeBlocked.add(id);
        // The first pause only suspects the site (a run of unlucky picks looks the same); from the second on, with no
        // success in between, the episode is confirmed and its blocks are taken back from the proxies.
        const verdict: SiteVerdict = { siteWide: true, absolve: this.pauses >= 1 ? [...this.episodeBlocked] : [] };
        if (now - this.episodeStart >= this.options.stopAfterMillis) {
            verdict.stop = this.describe(now);
            return verdict;
        }
        // Blocks of uses that were in flight when the pause began do not extend it.
        if (now >= this.pausedUntil) {
            const pause = Math.min(this.options.maxPauseMillis, this.options.pauseMillis * 2 ** Math.min(20, this.pauses));
            this.pauses++;
            this.pausedUntil = now + pause;
            verdict.pauseUntil = this.pausedUntil;
            verdict.message = `${this.describe(now)}; pausing the pool for ${Math.round(pause / 100) / 10} s and not counting it against the proxies`;
        }
        return verdict;
    }

    private describe(now: number): string {
        const secs = Math.round(Math.max(this.options.windowMillis, now - (this.episodeStart ?? now)) / 1000);
        return `every proxy was blocked on ${this.site} within ${secs} s: the site may be down or the check may be wrong`;
    }
}
