export { redisStore, RedisSessionStore } from './session-store.js';
export { RedisSharedState, type SharedChange, type SyncReport } from './shared-state.js';
export { RedisUnavailableError } from './connection.js';
export { DEFAULT_REDIS_URL, type RedisStoreOptions } from './options.js';
export { GLOBAL_SCOPE, Keys, type RecordRef } from './keys.js';
export { applyDelta, combineDeltas, decodeRecord, decayFactor, recentAt, type RecordDelta, type SharedRecord } from './record.js';
export { type LeaseEntry } from './leases.js';
export { redisServerPath, startRedisServer, type RedisServerHandle } from './redis-server.js';
export { type SessionFields } from './session-mapping.js';
