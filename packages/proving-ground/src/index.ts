export { startProvingGround, type ProvingGround } from './proving-ground.js';
export type {
    BlockResponse,
    ChallengeOptions,
    ChallengeStyle,
    DeadProxiesOptions,
    DeadProxyMode,
    DriftOptions,
    GatewayOptions,
    IdentityOptions,
    IpBanOptions,
    ProvingGroundClock,
    ProvingGroundOptions,
    ProxyAuthOptions,
    ProxyFarmOptions,
    RateLimitOptions,
    RateLimitsOptions,
    ResolvedOptions,
    SiteOptions,
} from './options.js';
export { scenarios, getScenario, applyScenario, mergeOptions, type Scenario, type ScenarioName } from './scenarios.js';
export type { Counters, GatewayCounters, GroundTruth, ProxyCounters, RefusalReason, RequestLogEntry, ResponseKind } from './stats.js';
export { farmAddress, NON_LOOPBACK_STATUS, type ProxyInfo } from './farm.js';
export { exitIndexOf, gatewayAddress, sessionIdOf, type Gateway, type GatewayExit } from './gateway.js';
export { isAllowedTarget, isTestHost, testDnsLookup, SITE_ADDRESS } from './loopback.js';
export { ProvingGroundOptionsError, validateOptions } from './validate.js';
export { SESSION_COOKIE } from './defenses/sessions.js';
export { CSRF_FIELD, CSRF_HEADER } from './defenses/csrf.js';
export { BEACON_PATH, BEACON_SCRIPT } from './site/html.js';
export { JS_RENDERED_TEXT } from './site/pages.js';
export { derive, mulberry32, type Random } from './prng.js';
