export const VERSION = '0.1.0';

export * from './types.js';
export * from './errors.js';
export * from './clock.js';
export * from './redact.js';
export * from './classifier.js';
export * from './proxies.js';
export * from './identity.js';
export * from './session.js';
export * from './policies.js';
export * from './rules.js';
export * from './options.js';
export * from './stats.js';
export * from './store.js';
export * from './pool.js';
export * from './manager.js';
export * from './attempts.js';
export * from './send-request.js';
export * from './crawler-binding.js';
export type {
    OwnedCrawlerOption,
    SessionCrawlerOptionsOf,
    SessionHandlers,
    SessionNavigationHook,
    WithOptionalSession,
    WithSession,
} from './crawler-types.js';
