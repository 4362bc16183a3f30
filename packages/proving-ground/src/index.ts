export type {
    BlockResponse,
    ChallengeOptions,
    ChallengeStyle,
    DeadProxiesOptions,
    DeadProxyMode,
    DriftOptions,
    IdentityOptions,
    IpBanOptions,
    ProvingGroundOptions,
    ProxyAuthOptions,
    ProxyFarmOptions,
    RateLimitOptions,
    RateLimitsOptions,
    ResolvedOptions,
    SiteOptions,
} from './options.js';
export { scenarios, getScenario, applyScenario, mergeOptions, type Scenario, type ScenarioName } from './scenarios.js';
export type { Counters, GroundTruth, ProxyCounters, RefusalReason, RequestLogEntry, ResponseKind } from './stats.js';
export { ProvingGroundOptionsError, validateOptions } from './validate.js';
