/**
 * The proxy-health contract: what the scheduler and the manager consume of proxy health (a learner can replace the
 * default {@link ProxyHealth} by implementing {@link ProxyHealthModel}), and the plain data it persists.
 */
/** The health of one proxy, globally or on one site. Plain data: this is what the store persists. */
export interface HealthRecord {
    successes: number;
    /** Blocked and check-failed outcomes. */
    blocked: number;
    proxyFailures: number;
    rateLimited: number;
    targetErrors: number;
    /** Failures since the last success (drives backoff). */
    failuresInRow: number;
    targetErrorsInRow: number;
    /** Backoffs since the last success (drives the exponent and the ban). */
    backoffs: number;
    /** Epoch millis until which the proxy must not be handed out. */
    backoffUntil?: number;
    /** After a backoff: the next use is a probe, one at a time, until one succeeds. */
    probing?: boolean;
    /** Banned for good (site records only). */
    banned?: boolean;
    /** Rate-limited until (site records only): sessions on it wait, but it is not in backoff. */
    pacedUntil?: number;
}


/** What the health tracker says about a proxy on a site right now. */
export type ProxyAvailability = 'usable' | 'backoff' | 'banned' | 'probing';

/** Serialized health of every proxy. */
export interface PersistedHealth {
    [proxyId: string]: { global: HealthRecord; sites: Record<string, HealthRecord> };
}

export type OutcomeEffect = 'success' | 'blocked' | 'proxy-failure' | 'rate-limited' | 'target-error' | 'neutral';

/** Result of recording an outcome: whether it started a backoff or ban (for stats and logs). */
export interface HealthChange {
    backoff?: { scope: 'global' | 'site'; untilMillis: number };
    banned?: boolean;
    /** A probe use of this proxy ended: acquirers of any pool waiting for it may go on. */
    probeEnded?: boolean;
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
    /** The earliest time it could become usable again (end of backoff), or undefined when banned. */
    usableAt(): number | undefined;
    /** Sessions on this proxy should not be used on this site before this time (learned pace, rate limits). */
    pacedUntil(): number;
    /** Estimated chance in [0, 1] that a use goes well (the scored policy ranks proxies by it). */
    score(): number;
    /** Number of judged uses on this site (exploration bonus for little-tried proxies). */
    trials(): number;
    /** True when it is unusable and its last probe failed too: waiting for it is unlikely to help soon. */
    stalled(now: number): boolean;
}

/**
 * The proxy-health interface the scheduler and the manager consume. {@link ProxyHealth} is the default; a learner
 * implements the same verbs: availability (through handles), record an outcome, hand-out notice, snapshot/restore.
 */
export interface ProxyHealthModel {
    /** Changes whenever the `version` of any handle changes (a pool re-reads its slots only then, or when time says). */
    readonly epoch: number;
    /** A handle for (proxy, site), kept by the pool in the proxy's slot. Creating one records nothing. */
    handle(proxyId: string, site: string): HealthHandle;
    /** Whether a session on this proxy may be handed out for this site now (same as the handle's). */
    availability(proxyId: string, site: string, now?: number): ProxyAvailability;
    /** When this proxy could be usable again for this site (end of backoff), or undefined when banned. */
    usableAt(proxyId: string, site: string): number | undefined;
    /** A session on this proxy was handed out for this site (the first use after a backoff becomes the probe). */
    onHandOut(proxyId: string, site: string): void;
    /** Records the outcome of one use; says whether it started a backoff or a ban. */
    record(proxyId: string, site: string, effect: OutcomeEffect, rateLimitMillis?: number): HealthChange;
    /** Counts of `ids` by availability on `site` (error messages). */
    summarize(ids: Iterable<string>, site: string): { total: number; backoff: number; banned: number; nextRetryAt?: number };
    /** Proxies tracked / in backoff / banned somewhere (stats). */
    counts(): { tracked: number; backoff: number; bannedOnSites: number };
    /** Plain-data snapshot (by proxy id only). */
    toJSON(): PersistedHealth;
    /** Restores a snapshot made by `toJSON()`. */
    restore(data: PersistedHealth): void;
    /** Optional (shared stores): this proxy's record on a pool key, or `'*'` for everywhere; undefined if unknown. */
    recordOf?(proxyId: string, scope: string): HealthRecord | undefined;
    /** Optional (shared stores): replaces one record with a merged one (other processes' outcomes included). */
    merge?(proxyId: string, scope: string, record: HealthRecord): void;
}

