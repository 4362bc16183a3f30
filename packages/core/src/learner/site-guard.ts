/**
 * Blocks that are the site's or the check's fault. When the latest uses of most proxies seen on one site lately were
 * blocked (at least `minProxies` of them since the site's latest success, and `fraction` of all), no proxy is to blame: the site is down, blocks everyone for a
 * while, or the user's check rejects good pages. The guard then pauses the pool (briefly, doubling while it
 * persists); once a second pause confirms it (still no success), it says which proxies the episode's blocks must not
 * count against; and if it lasts too long, it gives the reason to stop the crawl with.
 */
import type { Pair, PairSlot } from './pair-map.js';

/** When blocks are the site's fault (`learner.siteWide` option). */
export interface SiteGuardOptions {
    /** Proxies not used on the site for this long are left out of the comparison, in milliseconds. @default 300000 */
    horizonMillis?: number;
    /** Fewest proxies credibly blocked on their latest use (they passed before and the session was not worn, or the check refused), all since the site's latest success, before the site can be blamed. @default 8 */
    minProxies?: number;
    /** Share of the proxies seen lately whose latest use was blocked. @default 0.9 */
    fraction?: number;
    /** First pause of the pool, in milliseconds; it doubles while blocks stay site-wide. @default 2000 */
    pauseMillis?: number;
    /** Cap of one pause, in milliseconds. @default 30000 */
    maxPauseMillis?: number;
    /** A site-wide episode lasting this long stops the crawl with the site's reason, in milliseconds. @default 120000 */
    stopAfterMillis?: number;
}

export type ResolvedSiteGuardOptions = Required<SiteGuardOptions>;

export const DEFAULT_SITE_GUARD: ResolvedSiteGuardOptions = {
    horizonMillis: 300_000,
    minProxies: 8,
    fraction: 0.9,
    pauseMillis: 2_000,
    maxPauseMillis: 30_000,
    stopAfterMillis: 120_000,
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

/** The verdict on an outcome that is not site-wide (shared, frozen: most outcomes get it and nobody writes it). */
const NOT_SITE_WIDE: SiteVerdict = Object.freeze({ siteWide: false, absolve: Object.freeze([]) as unknown as string[] });

/** The latest outcome of one proxy on the site (`seq`: its place from the oldest to the newest). */
export interface Latest {
    id: string;
    blocked: boolean;
    at: number;
    everOk: boolean;
    credible: boolean;
    /** The site's success count when this use was recorded: it counts in `credibleSinceOk` while no success followed. */
    epoch: number;
    /** The site's count of recorded uses at this one: the records in `seq` order run from the oldest to the newest. */
    seq: number;
    /** Forgotten (not seen for the horizon): a pair's cached reference to it no longer holds. */
    gone: boolean;
}

/** One per (site) pool; see the module comment. */
export class SiteGuard {
    /** The latest outcome of each proxy seen on the site lately; `credible`: see {@link observe}. */
    private readonly latest = new Map<string, Latest>();
    /**
     * Uses recorded (a record's `seq`), and at most the `at` of the oldest record (Infinity: none): records are put in
     * order (by `seq`) only to forget (once the oldest may be past the horizon) and to absolve, so that a use touches its
     * proxy's record alone, not its neighbours in a list (with many pools each is a cold read).
     */
    private seq = 0;
    private minAt = Infinity;
    private blockedCount = 0;
    /** Successes seen on the site (any outcome not blocked); a new one starts a new run of blocks. */
    private okEpoch = 0;
    /** Proxies whose latest use is a credible block after the site's latest success (so the blocks came with no success between). */
    private credibleSinceOk = 0;
    private readonly options: ResolvedSiteGuardOptions;
    private episodeStart: number | undefined;
    private pauses = 0;
    private pausedUntil = 0;

    constructor(
        private readonly site: string,
        options: SiteGuardOptions = {},
        /** Where a caller holding the (proxy, site) pair keeps the proxy's record (no lookup in the cold table then). */
        private readonly byPair?: PairSlot<Latest>,
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

    /**
     * Records the latest use of `proxyId` on the site: blocked or not (any other judged outcome). A block counts as
     * evidence against the site only when it is credible: the proxy passed on this site before (a proxy that worked
     * now fails), or it was the rule's check that refused a page the classifier found fine (`checkFailed`). Blocks of
     * proxies never seen passing could just as well be bans, however many there are; blocks of `worn` sessions (many
     * good uses behind them) could be each session's own cap, which sessions created together reach together.
     */
    observe(proxyId: string, blocked: boolean, now: number, checkFailed = false, worn = false, pair?: Pair): SiteVerdict {
        this.remember(proxyId, blocked, now, checkFailed, worn, pair);
        if (!blocked) {
            this.episodeStart = undefined;
            this.pauses = 0;
            return NOT_SITE_WIDE;
        }
        // Site-wide: most proxies the site has seen lately were blocked on their latest use, and at least minProxies of
        // them with no success on the site between (a site that blocks one use in ten at random backs many proxies off,
        // so their latest uses stay blocks, while the proxies still in use keep passing: not the site's fault).
        const { minProxies, fraction } = this.options;
        if (this.episodeStart === undefined && (this.credibleSinceOk < minProxies || this.blockedCount < fraction * this.latest.size)) {
            return NOT_SITE_WIDE;
        }
        this.episodeStart ??= now;
        // The first pause only suspects the site (a run of unlucky picks looks the same); from the second on, with no
        // success in between, the episode is confirmed and the blocks of the proxies blocked last are taken back.
        const absolve: string[] = [];
        if (this.pauses >= 1) for (const l of this.inOrder()) if (l.blocked) absolve.push(l.id);
        const verdict: SiteVerdict = { siteWide: true, absolve };
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

    /** Keeps the latest outcome per proxy (forgetting proxies not seen for `horizonMillis`) and the count of blocked ones. */
    private remember(proxyId: string, blocked: boolean, now: number, checkFailed: boolean, worn: boolean, pair: Pair | undefined): void {
        const cached = pair && this.byPair?.at(pair);
        let entry = cached && !cached.gone ? cached : this.latest.get(proxyId);
        if (entry) this.uncount(entry);
        else {
            entry = { id: proxyId, blocked, at: now, everOk: false, credible: false, epoch: 0, seq: 0, gone: false };
            this.latest.set(proxyId, entry);
        }
        if (pair && entry !== cached) this.byPair?.set(pair, entry);
        if (!blocked) {
            this.okEpoch++;
            this.credibleSinceOk = 0;
        }
        // The proxy's record is reused (this runs on every judged use): it becomes the newest.
        entry.epoch = this.okEpoch;
        entry.everOk ||= !blocked;
        entry.blocked = blocked;
        entry.at = now;
        entry.credible = blocked && (checkFailed || (entry.everOk && !worn));
        entry.seq = ++this.seq;
        if (now < this.minAt) this.minAt = now;
        if (entry.blocked) this.blockedCount++;
        if (entry.credible) this.credibleSinceOk++;
        // Oldest first: drop what was not seen lately (up to the first record seen since).
        const cutoff = now - this.options.horizonMillis;
        if (this.minAt > cutoff) return;
        let minAt = Infinity;
        let dropping = true;
        for (const l of this.inOrder()) {
            if (dropping && l.at <= cutoff) {
                this.uncount(l);
                this.latest.delete(l.id);
                l.gone = true;
            } else {
                dropping = false;
                if (l.at < minAt) minAt = l.at;
            }
        }
        this.minAt = minAt;
    }

    /** The records from the oldest to the newest. */
    private inOrder(): Latest[] {
        return [...this.latest.values()].sort((a, b) => a.seq - b.seq);
    }

    private uncount(l: Latest): void {
        if (l.blocked) this.blockedCount--;
        if (l.credible && l.epoch === this.okEpoch) this.credibleSinceOk--;
    }

    private describe(now: number): string {
        let first = now;
        for (const l of this.latest.values()) if (l.blocked && l.at < first) first = l.at;
        const secs = Math.max(1, Math.round((now - first) / 1000));
        return `every proxy was blocked on ${this.site} within ${secs} s: the site may be down or the check may be wrong`;
    }
}
