/** Options of {@link redisStore}, their defaults and their validation (a wrong option fails at construction, named). */
import { hostname } from 'node:os';

import type { Log } from '@crawlee/core';
import { redactText, type Clock } from '@sessionpack/core';
import type { Redis } from 'ioredis';
import ow from 'ow';

export interface RedisStoreOptions {
    /**
     * Redis URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS). Its password is never logged: errors
     * name the URL with the password redacted. Mutually exclusive with `client`. @default 'redis://127.0.0.1:6379'
     */
    url?: string;
    /** An ioredis client of your own (it is not closed by `close()`). Mutually exclusive with `url`. @default none */
    client?: Redis;
    /**
     * Prefix of every key. Workers that share a prefix share proxy health, sessions and leases; give each crawl its own.
     * For Redis Cluster, put a hash tag in it (`{shop-crawl}`) so every key lands in one slot. @default 'sessionpack'
     */
    prefix?: string;
    /**
     * Milliseconds between two syncs (push this worker's changes, pull everyone else's): the staleness bound of the
     * local view. 0 turns the timer off (call `sync()` yourself). @default 1000
     */
    syncIntervalMillis?: number;
    /**
     * How long a lease on a session outlives its last renewal, in milliseconds. A worker renews its leases on every
     * sync; when it dies (even by kill -9), its sessions return to the others after at most this long. @default 15000
     */
    leaseTtlMillis?: number;
    /** A lease this worker holds on a session it has not used for this long is given back on the next sync. @default 2000 */
    leaseIdleMillis?: number;
    /** Half-life of the fading ("recent") outcome counts of proxy health, in milliseconds. @default 600000 (10 minutes) */
    healthHalfLifeMillis?: number;
    /** How long a retired session stays in Redis (so every worker learns it is retired), in milliseconds. @default 3600000 */
    retiredTtlMillis?: number;
    /** How long `open()` waits for Redis before failing, in milliseconds. @default 5000 */
    connectTimeoutMillis?: number;
    /** This worker's id in leases (unique per process). @default `${hostname}:${pid}:${random}` */
    workerId?: string;
    /** Time source (deadlines and leases are epoch millis of this clock). @default the system clock */
    clock?: Clock;
    /** Log to write to (a child with prefix 'Redis' is used). @default Crawlee's log */
    log?: Log;
}

export interface ResolvedRedisStoreOptions
    extends Required<Omit<RedisStoreOptions, 'client' | 'url' | 'clock' | 'log'>>,
        Pick<RedisStoreOptions, 'client' | 'url' | 'clock' | 'log'> {}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const nonNegativeInt = ow.optional.number.integer.greaterThanOrEqual(0);
const positiveInt = ow.optional.number.integer.positive;

const shape = ow.object.exactShape({
    url: ow.optional.string.nonEmpty.validate((u: string) => ({
        validator: /^rediss?:\/\//.test(u) && URL.canParse(u),
        message: (label: string) => `Expected ${label} to be a redis:// or rediss:// URL`,
    })),
    client: ow.optional.object.validate((c: object) => ({
        validator: typeof (c as { defineCommand?: unknown }).defineCommand === 'function',
        message: (label: string) => `Expected ${label} to be an ioredis client (new Redis(...))`,
    })),
    prefix: ow.optional.string.nonEmpty.matches(/^[^\s]+$/),
    syncIntervalMillis: nonNegativeInt,
    leaseTtlMillis: positiveInt,
    leaseIdleMillis: nonNegativeInt,
    healthHalfLifeMillis: positiveInt,
    retiredTtlMillis: positiveInt,
    connectTimeoutMillis: positiveInt,
    workerId: ow.optional.string.nonEmpty.matches(/^[^\s]+$/),
    clock: ow.optional.object.partialShape({ now: ow.function, setTimeout: ow.function, clearTimeout: ow.function }),
    log: ow.optional.object,
});

/** Validates (throws a TypeError naming the option) and fills in the defaults. */
export function resolveOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
    try {
        ow(options, 'redisStore options', shape);
    } catch (error) {
        // ow's message can quote the value: never echo a URL's password.
        throw new TypeError(redactText((error as Error).message));
    }
    if (options.url !== undefined && options.client !== undefined) {
        throw new TypeError('redisStore options: pass either `url` or `client`, not both.');
    }
    const o: ResolvedRedisStoreOptions = {
        ...options,
        prefix: options.prefix ?? 'sessionpack',
        syncIntervalMillis: options.syncIntervalMillis ?? 1000,
        leaseTtlMillis: options.leaseTtlMillis ?? 15_000,
        leaseIdleMillis: options.leaseIdleMillis ?? 2000,
        healthHalfLifeMillis: options.healthHalfLifeMillis ?? 600_000,
        retiredTtlMillis: options.retiredTtlMillis ?? 3_600_000,
        connectTimeoutMillis: options.connectTimeoutMillis ?? 5000,
        workerId: options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    };
    if (o.syncIntervalMillis > 0 && o.leaseTtlMillis < 2 * o.syncIntervalMillis) {
        throw new TypeError(
            `redisStore options: \`leaseTtlMillis\` (${o.leaseTtlMillis}) must be at least twice \`syncIntervalMillis\` (${o.syncIntervalMillis}), or leases expire between two renewals.`,
        );
    }
    return o;
}

