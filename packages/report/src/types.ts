/**
 * The plain data a crawl report is drawn from. Written by `@sessionpack/core` (`manager.reportData()`) and stored next
 * to the HTML as JSON, so the report can be drawn again later (`npx sessionpack-report`). Nothing here may hold proxy
 * credentials: proxies appear by id and `host:port` only.
 */

/** Outcome names as core counts them (`use/<name>`), in the order the chart stacks them. */
export const REPORT_OUTCOMES = ['ok', 'blocked', 'check-failed', 'rate-limited', 'proxy-failure', 'target-error', 'handler-error'] as const;

export type ReportOutcome = (typeof REPORT_OUTCOMES)[number];

/** Uses per outcome over time: `counts[outcome][i]` uses ended in `[startedAt + i * bucketMillis, ... + bucketMillis)`. */
export interface ReportSeries {
    /** Epoch millis of the first bucket's start. */
    startedAt: number;
    /** Width of one bucket in milliseconds (grows as the crawl gets longer, so the series stays bounded). */
    bucketMillis: number;
    counts: Record<ReportOutcome, number[]>;
}

/** One reason sessions of a pool were blocked (or otherwise failed a use), with one URL it happened on. */
export interface ReportReason {
    /** The outcome type (blocked, check-failed, rate-limited, proxy-failure, target-error, handler-error). */
    outcome: string;
    reason: string;
    count: number;
    /** A URL of a request that got this reason (query string kept, user info removed). */
    exampleUrl?: string;
}

/** How a group of sessions ended: the reason (its category, e.g. `blocked`, `max uses reached`) and their lifetimes. */
export interface ReportEnding {
    reason: string;
    count: number;
    /** Uses of these sessions: mean and max (absent when only the reason was kept, e.g. in stored state). */
    meanUses?: number;
    maxUses?: number;
    /** Age at retirement in milliseconds: mean and max (absent like the uses). */
    meanAgeMillis?: number;
    maxAgeMillis?: number;
}

/** Health of one proxy on one pool. Fields a learner adds later go in `extra` and get their own columns. */
export interface ReportProxyHealth {
    proxyId: string;
    successes: number;
    /** Blocked and check-failed uses. */
    blocked: number;
    proxyFailures: number;
    rateLimited: number;
    targetErrors: number;
    /** Backoffs since its last success. */
    backoffs: number;
    /** Its state at the time of the report. */
    state: 'usable' | 'backoff' | 'banned' | 'probing';
    /** Epoch millis until which it is paced (rate-limited) on this pool, if it is. */
    pacedUntil?: number;
    /** Further per-(proxy, pool) figures (learned pace, tier, ...), shown as extra columns by name. */
    extra?: Record<string, number | string>;
}

/** One pool of the crawl. */
export interface ReportPool {
    key: string;
    /** Target size (ceiling) of the pool. */
    size: number;
    /** Counters of the pool, named as in `manager.stats()` (`use/ok`, `init/passed`, `session/retired`, ...). */
    counters: Record<string, number>;
    /** Live sessions by state at the time of the report (as in `manager.stats()`). */
    sessions: Record<string, number>;
    /** Further per-pool figures a learner keeps (e.g. `learned cap`), shown by name. */
    extra?: Record<string, number | string>;
    series?: ReportSeries;
    reasons: ReportReason[];
    endings: ReportEnding[];
    proxies: ReportProxyHealth[];
}

/** A proxy as the report names it: never its URL. */
export interface ReportProxy {
    id: string;
    /** `host:port` (no user name, no password); absent when unknown (e.g. a report drawn from stored state). */
    address?: string;
}

/** Everything one report shows. */
export interface ReportData {
    format: 'sessionpack-report';
    version: 1;
    /** ISO time the data was taken. */
    generatedAt: string;
    title?: string;
    pools: ReportPool[];
    proxies: ReportProxy[];
    /** Whole-manager proxy figures, as in `manager.stats().proxies`. */
    proxySummary?: { configured: number | 'dynamic'; tracked: number; backoff: number; bannedOnSites: number };
    /** Notes shown at the top (e.g. that the data came from stored state and has no time series). */
    notes?: string[];
}
