export { redisStore, RedisStore, type SharedChange, type SyncReport } from './store.js';
export { RedisUnavailableError } from './connection.js';
export { DEFAULT_REDIS_URL, type RedisStoreOptions } from './options.js';
export { GLOBAL_SCOPE, Keys, type RecordRef } from './keys.js';
export { applyDelta, combineDeltas, decodeRecord, decayFactor, recentAt, type RecordDelta, type SharedRecord } from './record.js';
export { type LeaseEntry } from './leases.js';
export { redisServerPath, startRedisServer, type RedisServerHandle } from './redis-server.js';
