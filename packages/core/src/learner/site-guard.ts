/**
 * Blocks that are the site's or the check's fault. When the latest uses of most proxies on one site were blocked
 * within a short window, no proxy is to blame: the site is down, blocks everyone for a while, or the user's check
 * rejects good pages. The guard then pauses the pool (briefly, doubling while it persists), says which proxies the
 * window's blocks must not count against, and, if it lasts too long, gives the reason to stop the crawl with.
 */

/** When blocks are the site's fault (`learner.siteWide` option). */
export interface SiteGuardOptions {
    /** Window in which the latest uses of the proxies are compared, in milliseconds. @default 10000 */
    windowMillis?: number;
    /** Fewest distinct proxies with a use in the window before the site can be blamed. @default 5 */
    minProxies?: number;
    /** Share of those proxies whose latest use was blocked. @default 0.9 */
    fraction?: number;
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
    minProxies: 5,
    fraction: 0.9,
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

interface Latest {
    blocked: boolean;
    at: number;
}

/** One per (site) pool; see the module comment. */
export class SiteGuard {
    private readonly latest = new Map<string, Latest>();
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
        this.latest.set(proxyId, { blocked, at: now });
        if (!blocked) {
            this.episodeStart = undefined;
            this.pauses = 0;
            return { siteWide: false, absolve: [] };
        }
        const { windowMillis, minProxies, fraction } = this.options;
        let seen = 0;
        const blockedIds: string[] = [];
        for (const [id, l] of this.latest) {
            if (l.at <= now - windowMillis) {
                this.latest.delete(id);
                continue;
            }
            seen++;
            if (l.blocked) blockedIds.push(id);
        }
        if (seen < minProxies || blockedIds.length < fraction * seen) {
            return { siteWide: false, absolve: [] };
        }
        const verdict: SiteVerdict = { siteWide: true, absolve: blockedIds };
        this.episodeStart ??= now;
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
