/**
 * The learner's types: its options, what it reads of a use, what it says to do, and its persisted state.
 */
import type { BackoffRecord, DecayingBackoffOptions } from './backoff.js';
import type { Blame } from './blame.js';
import type { CapObservation, CapOptions } from './cap.js';
import type { HealthOptions, PersistedFadedHealth } from './health.js';
import type { PaceOptions, PaceRecord } from './pace.js';
import type { Pair } from './pair-map.js';
import type { SiteGuardOptions } from './site-guard.js';
import type { TierOptions } from './tiers.js';
import type { WearOptions } from './wear.js';

/** Options of the learner (`learner` option of the manager); every part has its defaults. */
export interface LearnerOptions {
    health?: HealthOptions;
    backoff?: DecayingBackoffOptions;
    siteWide?: SiteGuardOptions;
    pace?: PaceOptions;
    cap?: CapOptions;
    /** Learned wear: proxies blocked after about N good uses since their last block are rested before N. */
    wear?: WearOptions;
    tiers?: TierOptions;
    /** Good uses from which a session blocked while a sibling on its proxy passes is blamed itself. @default 3 */
    manyGoodUses?: number;
    /** 429s in a row after which a session on a dynamic (gateway) proxy is retired and its id re-rolled. @default 2 */
    gatewayRateLimitsToRetire?: number;
    /**
     * Through a gateway a 429's Retry-After is waited out this many times over: other session ids on the same (unknown)
     * exit keep sending, and a limiter that restarts its penalty on every request made during it answers the session's
     * return with another 429 if it comes back exactly on time. @default 2
     */
    gatewayRetryAfterFactor?: number;
    /** Target errors in a row of one proxy on one site that count as one blame. @default 5 */
    targetErrorsInRow?: number;
}

/** Where a use happened. */
export interface UseContext {
    /** Pool key: the site (or the pool a rule names) health is learned for. */
    site: string;
    proxyId: string;
    sessionId: string;
    /** Good uses of the session before this one. */
    goodUses: number;
    duringInit?: boolean;
    /** The proxy URL came from a dynamic ProxyConfiguration (a gateway: exit IP unknown). */
    dynamicProxy?: boolean;
    /** The proxy's tier, with tiered proxies. */
    tier?: number;
    /** This use is the tier ladder's probe of a lower tier. */
    tierProbe?: boolean;
    /** The interned (proxy, site) of the learner's `pairs`, when the caller holds it: its records are read directly. */
    pair?: Pair;
}

/** What the learner was told about one use. */
export type LearnedOutcome =
    | { kind: 'ok' | 'proxy-failure' | 'target-error' | 'neutral' }
    /** `checkFailed`: the rule's check refused a page the classifier found fine. */
    | { kind: 'blocked'; checkFailed?: boolean }
    | { kind: 'rate-limited'; retryAfterMillis?: number };

/** What the caller must do after an outcome. */
export interface LearnerEffects {
    /** For blocks: whose fault it was. */
    blame?: Blame;
    /** Retire the session (blamed, or a gateway session that keeps getting 429s). */
    retireSession: boolean;
    /** The proxy's new backoff on the site (or everywhere, for proxy failures). */
    backoff?: { scope: 'site' | 'global'; until: number; level: number; banned: boolean };
    /** Pause the whole pool until then (site-wide blocks). */
    pausePoolUntil?: number;
    /** Stop the crawl with this reason (site-wide blocks that persist). */
    stop?: string;
    /** A line for the log. */
    message?: string;
    /**
     * Whether what the scheduler reads of the proxy (availability, backoff deadline, pace, probe) may have changed: an
     * ordinary success on a proxy without backoff, probe or pace changes none of it.
     */
    availabilityChanged: boolean;
    /** The proxy's probe everywhere (after a global backoff) ended: pools of other sites waiting for it may go on. */
    globalProbeEnded: boolean;
    /** What the scheduler reads of every proxy on the site may have changed (the site's pace prior was set or rose). */
    siteChanged?: boolean;
    /** Other proxies whose probe on the site was put off (a failed probe there, see `Learner.deferSiblings`). */
    deferred?: string[];
}

/** Availability of a proxy on a site: `probing` means its probe use is out, wait for it. */
export type LearnedAvailability = 'usable' | 'probe' | 'probing' | 'backoff' | 'banned';

/** Persisted state of the learner (by proxy id and pool key only: no URLs, no credentials; the tier ladder is stored by the manager's `TierGate`). */
export interface PersistedLearnerState {
    v: 2;
    health: PersistedFadedHealth;
    /** Key `proxyId \u0000 site` (site `*`: everywhere): backoff records with their deadlines. */
    backoffs: Record<string, BackoffRecord>;
    pace: Record<string, PaceRecord>;
    caps: Record<string, CapObservation[]>;
}
