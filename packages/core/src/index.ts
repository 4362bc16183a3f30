/**
 * @sessionpack/core: what users of the session engine need. What adapters need (CrawlerBinding, AttemptTracker,
 * createSendRequest...) is on the `@sessionpack/core/adapter` subpath.
 */
export const VERSION = '0.1.0';

export { SessionManager } from './manager.js';
export { SessionEvents } from './events.js';
export { ManagedSession } from './session.js';
export type { AcquireOptions, InitToolHelpers } from './init.js';
export type { EvaluateInput, PrepareInput } from './hooks.js';
export type { Pool } from './pool.js';

export { DEFAULT_POOL_OPTIONS } from './options.js';
export type { PoolOptions, ProxyBackoffOptions, ResolvedPoolOptions, SessionManagerOptions, StoreOptions } from './options.js';
export type {
    BaseHookState,
    CheckFields,
    ExtrasOf,
    PrepareFields,
    CheckHook,
    CheckState,
    CheckVerdict,
    HookExtras,
    HookState,
    InitHook,
    PrepareHook,
    PrepareState,
    Rule,
    UrlPattern,
} from './rules.js';
export { POLICY_NAMES } from './policies.js';
export type { Candidates, PolicyContext, PolicyName, ReadyOrder, SessionPolicy } from './policies.js';
export type { ProxyCandidate } from './slot.js';

export type {
    Identity,
    JsonObject,
    JsonValue,
    Outcome,
    OutcomeType,
    ProxyRef,
    RequestLike,
    ResponseSnapshot,
    SendRequest,
    SendRequestOptions,
    SendRequestResponse,
    SessionStateName,
} from './types.js';
export { OUTCOMES, OUTCOME_TYPES } from './outcomes.js';
export type { OutcomeRule, SessionEffect } from './outcomes.js';

export {
    AcquireTimeoutError,
    BadSessionError,
    CrawlAbortError,
    InitFailedError,
    ManagerClosedError,
    NoUsableProxyError,
    SessionpackError,
    SessionsUnavailableError,
    SiteUnavailableError,
    isAcquireTimeoutError,
    isBadSessionError,
    isCrawlAbortError,
    isCrawlStoppingError,
    isInitFailedError,
    isManagerClosedError,
    isNoUsableProxyError,
    isSessionpackError,
    isSessionsUnavailableError,
    isSiteUnavailableError,
    isTargetError,
    TargetError,
} from './errors.js';
export type { AcquireWaitReason } from './errors.js';
export type {
    OwnedCrawlerOption,
    SessionCrawlerOptionsOf,
    SessionHandlers,
    SessionNavigationHook,
    WithOptionalSession,
    WithSession,
} from './crawler-types.js';

export { BUILT_IN_MARKERS, classify, parseRetryAfter } from './classifier.js';
export type { BlockMarker, ClassifierOptions } from './classifier.js';

export { LearnedHealth } from './learner/model.js';
export type { LearnerOptions } from './learner/learner.js';
export type { HealthOptions } from './learner/health.js';
export type { DecayingBackoffOptions } from './learner/backoff.js';
export type { SiteGuardOptions } from './learner/site-guard.js';
export type { PaceOptions } from './learner/pace.js';
export type { CapOptions } from './learner/cap.js';
export type { WearOptions } from './learner/wear.js';
export type { TierOptions } from './learner/tiers.js';
export type { PersistedTierState, TierStats } from './tier-gate.js';
export type {
    HealthChange,
    HealthHandle,
    LearnedRecord,
    UseInfo,
    OutcomeEffect,
    PersistedHealth,
    ProxyAvailability,
    ProxyHealthModel,
} from './health-model.js';
export { DIRECT_PROXY_ID, proxyIdOf, proxyLabel, proxyRefOf } from './proxies.js';

export { IdentityFactory, DEFAULT_HEADER_GENERATOR_OPTIONS } from './identity.js';
export type { IdentityFactoryOptions } from './identity.js';

export { COUNTER_NAMES, summaryLine } from './stats.js';
export type { CounterName, Counters, ManagerStats, PoolStats, SessionCounts } from './stats.js';

export { KeyValueSessionStore, parseState, STATE_FORMAT, STATE_VERSION } from './store.js';
export type { PersistedPool, PersistedRetired, PersistedSession, PersistedState, SessionStore, SharedSession, SharedStateHost, StateChanges } from './store.js';

export { ManualClock, systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { Redactor, redactText, redactUrl } from './redact.js';
export { CrawlTimeline, type TimelineOptions, type EndedSession } from './timeline.js';
export { CrawlReporter, type CrawlReportOptions, type CrawlReportLocation } from './crawl-report.js';
export { buildReportData, proxyAddress, type ReportSources } from './report-data.js';
