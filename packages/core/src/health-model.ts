/**
 * The proxy-health contract: what the scheduler and the manager consume of proxy health (implemented by the learner,
 * `learner/model.ts`), and the plain data it persists.
 */
/**
 * What is stored of one proxy, everywhere (`global`) or on one site: faded counts of good and bad uses, the backoff
 * with its deadline (nothing is banned without one), the learned pace. Plain data by proxy id, never a URL.
 */
export interface LearnedRecord {
    ok?: number;
    bad?: number;
    /** When the counts were last updated (epoch millis): they fade from there. */
    at?: number;
    backoff?: { level: number; until?: number };
    pace?: { rate?: number; pausedUntil?: number; lastLimitedAt?: number; ceiling?: number };
}

/** Who used the proxy, for blame: the session, how many good uses it had, whether this was its init. */
export interface UseInfo {
    sessionId?: string;
    /** Uses of the session before this one. */
    goodUses?: number;
    duringInit?: boolean;
    /** The proxy URL came from a dynamic ProxyConfiguration (a gateway: exit IP unknown). */
    dynamicProxy?: boolean;
    /** The block was the rule's check refusing a page the classifier found fine. */
    checkFailed?: boolean;
    /** The proxy's tier, with tiered proxies. */
    tier?: number;
    /** This use is the tier ladder's probe of the tier below. */
    tierProbe?: boolean;
}

/** What the health tracker says about a proxy on a site right now. */
export type ProxyAvailability = 'usable' | 'backoff' | 'banned' | 'probing';

/** Serialized health of every proxy. */
export interface PersistedHealth {
    [proxyId: string]: { global: LearnedRecord; sites: Record<string, LearnedRecord> };
}

export type OutcomeEffect = 'success' | 'blocked' | 'proxy-failure' | 'rate-limited' | 'target-error' | 'neutral';

/** Result of recording an outcome: whether it started a backoff or ban (for stats and logs). */
export interface HealthChange {
    backoff?: { scope: 'global' | 'site'; untilMillis: number };
    banned?: boolean;
    /** The proxy's probe everywhere (after a global backoff) ended: acquirers of other pools waiting for it may go on. */
    probeEnded?: boolean;
    /** For blocks: whose fault it was (the proxy's, the session's, or the site's / the check's). */
    blame?: 'proxy' | 'session' | 'site';
    /** Retire the session even if the outcome table keeps it (a gateway session that keeps getting 429s). */
    retireSession?: boolean;
    /** Blocks were site-wide: the pool waits until then. */
    pausePoolUntil?: number;
    /** Site-wide blocks persisted: stop the crawl with this reason. */
    stop?: string;
    /** A line for the log. */
    message?: string;
}

/**
 * What the scheduler needs to know about one proxy on one site. Cheap to call; a pool re-reads it only when
 * {@link version} changed or the clock passed the earliest of `usableAt()` / `pacedUntil()`.
 */
export interface HealthHandle {
    /**
     * Changes whenever `availability`, `usableAt`, `pacedUntil` or `stalled` may have changed for a reason other than the
     * passing of time. `score` and `trials` are cheap and read fresh on every call.
     */
    readonly version: number;
    /** Whether a session on this proxy may be handed out for this site now. */
    availability(now: number): ProxyAvailability;
    /** The earliest time it could become usable again (end of backoff), or undefined when banned; `now`: the caller's clock reading (default: the clock's). */
    usableAt(now?: number): number | undefined;
    /** Sessions on this proxy should not be used on this site before this time (learned pace, rate limits); `now` as for {@link usableAt}. */
    pacedUntil(now?: number): number;
    /** Estimated chance in [0, 1] that a use goes well (the scored policy ranks proxies by it); `now`: the caller's clock reading. */
    score(now?: number): number;
    /** Number of judged uses on this site (exploration bonus for little-tried proxies). */
    trials(): number;
    /**
     * Expected chance in [0, 1] that a use goes well: the posterior mean `score` draws from (for a proxy never used
     * anywhere, the site's first-use rate as the prior). The pool weighs a new proxy's expected block with it.
     */
    expected(now?: number): number;
    /** Milliseconds the learned pace puts between uses of this proxy on this site (for a fresh proxy: the site's prior); 0: not paced. */
    paceGapMillis(now: number): number;
    /** True when it is unusable and its last probe failed too: waiting for it is unlikely to help soon. */
    stalled(now: number): boolean;
    /** `ProxyHealthModel.onHandOut` of this (proxy, site), through the records the handle holds. */
    onHandOut(now: number): void;
    /** `ProxyHealthModel.record` of this (proxy, site), through the records the handle holds. */
    record(effect: OutcomeEffect, rateLimitMillis: number, use: UseInfo, now: number): HealthChange;
}

/**
 * The proxy-health interface the scheduler and the manager consume (the learner implements it): availability
 * (through handles), record an outcome, hand-out notice, snapshot/restore.
 */
export interface ProxyHealthModel {
    /** Changes whenever the `version` of any handle changes (a pool re-reads its slots only then, or when time says). */
    readonly epoch: number;
    /** A handle for (proxy, site), kept by the pool in the proxy's slot. Creating one records nothing. */
    handle(proxyId: string, site: string): HealthHandle;
    /** Whether a session on this proxy may be handed out for this site now (same as the handle's). */
    availability(proxyId: string, site: string, now?: number): ProxyAvailability;
    /** When this proxy could be usable again for this site (end of backoff), or undefined when banned. */
    usableAt(proxyId: string, site: string, now?: number): number | undefined;
    /** A session on this proxy was handed out for this site (the first use after a backoff becomes the probe). */
    onHandOut(proxyId: string, site: string, now?: number): void;
    /**
     * Records the outcome of one use (by `use`, for blame); says what it started (backoff, ban, pause, stop). `now`: the
     * caller's clock reading (default: the clock's).
     */
    record(proxyId: string, site: string, effect: OutcomeEffect, rateLimitMillis?: number, use?: UseInfo, now?: number): HealthChange;
    /** Until when the pool of `site` is paused (site-wide blocks); 0 when it is not. */
    pausedUntil(site: string): number;
    /** Counts of `ids` by availability on `site` at `now` (default: the clock's reading), for error messages. */
    summarize(ids: Iterable<string>, site: string, now?: number): { total: number; backoff: number; banned: number; nextRetryAt?: number };
    /** Proxies tracked / in backoff / banned somewhere (stats). */
    counts(): { tracked: number; backoff: number; bannedOnSites: number };
    /** Plain-data snapshot (by proxy id only). */
    toJSON(): PersistedHealth;
    /** Restores a snapshot made by `toJSON()`; returns the sites whose every proxy was blocked (each gets a probe). */
    restore(data: PersistedHealth): { site: string; reopened: number }[];
    /** Optional (shared stores): this proxy's record on a pool key, or `'*'` for everywhere; undefined if unknown. */
    recordOf?(proxyId: string, scope: string): LearnedRecord | undefined;
    /** Optional (shared stores): replaces one record with a merged one (other processes' outcomes included). */
    merge?(proxyId: string, scope: string, record: LearnedRecord): void;
}

