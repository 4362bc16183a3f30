/**
 * The store: where the manager's state lives between runs. Default: one record in a Crawlee KeyValueStore, written on
 * Crawlee's persist-state event and on `close()`, read back by `open()`. Proxies appear by id only, never by URL.
 */
import { Configuration, KeyValueStore } from '@crawlee/core';

import type { LearnedRecord, PersistedHealth } from './health-model.js';
import type { PersistedTierState } from './tier-gate.js';
import type { JsonObject } from './types.js';

/** Format marker of the state record; a record without it is "foreign" and gets replaced. */
export const STATE_FORMAT = 'sessionpack/state';
/** Version 2 interns header sets and fingerprints (sessions refer to them by index) and keeps only the cookies of a jar. */
export const STATE_VERSION = 2;
/** Versions `parseState` accepts (1: header sets inline, whole cookie jars). */
export const STATE_VERSIONS: readonly number[] = [1, 2];

/** One session as persisted. */
export interface PersistedSession {
    id: string;
    /** Proxy id (`direct` for none); the URL is re-attached from the current configuration on restore. */
    proxyId: string;
    /**
     * With a dynamic ProxyConfiguration, when the session reuses the URL of an earlier session (through a gateway: the
     * same exit): the session id that URL was asked for, asked for again on restore. Absent: the session's own id.
     */
    urlSessionId?: string;
    /** Index into the state's `headerSets` (version 1: the header set itself). */
    headers: number | Record<string, string>;
    /** The browser fingerprint (`identity.fingerprint`), when a browser adapter set one: index into `fingerprints` (version 1: inline). */
    fingerprint?: number | JsonObject;
    /** The jar's cookies (tough-cookie's serialized cookies); version 1 held the whole `CookieJar.toJSON()` in `cookieJar`. */
    cookies?: unknown[];
    /** Version 1: tough-cookie's `CookieJar.toJSON()`. */
    cookieJar?: unknown;
    userData: Record<string, unknown>;
    createdAt: number;
    /** Expiry when it was saved; on restore the expiry follows today's `maxAgeSecs` (createdAt + maxAgeSecs). */
    expiresAt: number;
    usageCount: number;
    errorScore: number;
    /** Epoch millis until which it cools down. */
    availableAt: number;
}

/** A retired session, kept so it stays retired (and for inspection). */
export interface PersistedRetired {
    id: string;
    proxyId: string;
    reason: string;
}

export interface PersistedPool {
    sessions: PersistedSession[];
    /** The most recently retired sessions (bounded). */
    retired: PersistedRetired[];
    /** Sessions retired in total. */
    retiredCount: number;
    initFailuresInRow: number;
}

/** The whole persisted state. */
export interface PersistedState {
    format: typeof STATE_FORMAT;
    version: number;
    savedAt: number;
    pools: Record<string, PersistedPool>;
    health: PersistedHealth;
    /** Distinct header sets, shared by the sessions that refer to them by index (version 2). */
    headerSets?: Record<string, string>[];
    /** Distinct fingerprints, shared likewise (version 2). */
    fingerprints?: JsonObject[];
    /** With tiered proxies: the tier of each pool and when it probes the tier below (`{ v: 1, sites }`; absent in older states). */
    tiers?: PersistedTierState;
}

/**
 * What changed since the last save, for stores that keep sessions and health one by one (e.g. Redis). Sessions refer
 * to `headerSets` / `fingerprints` by index, as in {@link PersistedState}.
 */
export interface StateChanges {
    savedAt: number;
    /** Sessions used, created or restored since the last save (their whole record), by pool. */
    sessions: { pool: string; session: PersistedSession }[];
    /** Sessions retired since the last save. */
    retired: { pool: string; retired: PersistedRetired }[];
    /** The health records of the proxies whose health changed. */
    health: PersistedHealth;
    headerSets: Record<string, string>[];
    fingerprints: JsonObject[];
}

/** A session as a shared store exchanges it: identity resolved (never by index), counters, cookies, userData. */
export interface SharedSession {
    id: string;
    /** Proxy id (`direct` for none): never its URL. */
    proxyId: string;
    /** As {@link PersistedSession.urlSessionId}: the session id its gateway URL was asked for, when not its own id. */
    urlSessionId?: string;
    headers: Readonly<Record<string, string>>;
    fingerprint?: Readonly<JsonObject>;
    /** The jar's cookies (tough-cookie's serialized cookies). */
    cookies: unknown[];
    userData: Record<string, unknown>;
    createdAt: number;
    expiresAt: number;
    usageCount: number;
    errorScore: number;
    /** Epoch millis until which it cools down. */
    availableAt: number;
}

/**
 * What a store shared by several crawler processes may do to a running manager (given once, by
 * {@link SessionStore.attach}): read and merge proxy health, add, update and retire sessions other workers changed,
 * mark sessions other workers are using, and collect what changed here.
 */
export interface SharedStateHost {
    now(): number;
    /** This manager's health record of a proxy on a pool key (`'*'`: everywhere), or undefined. */
    healthRecord(proxyId: string, scope: string): LearnedRecord | undefined;
    /** Puts a merged record in place of this manager's (waiters on that proxy look again). */
    mergeHealth(proxyId: string, scope: string, record: LearnedRecord): void;
    /** A live session of this manager and its open uses here, or undefined. */
    session(pool: string, id: string): { state: SharedSession; inUse: number } | undefined;
    /** A session another worker created joins its pool here (dropped if its proxy is not configured here). */
    adoptSession(pool: string, session: SharedSession): Promise<void>;
    /** What other workers changed on a live session: counters, cool-down, and (when given) cookies and userData. */
    updateSession(pool: string, id: string, update: Partial<Pick<SharedSession, 'usageCount' | 'errorScore' | 'availableAt' | 'cookies' | 'userData'>>): void;
    /** Another worker retired it. */
    retireSession(pool: string, id: string, reason: string): void;
    /** Other workers hold `slots` of the session's concurrent uses: it is busy here while that reaches its cap. */
    setHeldElsewhere(pool: string, id: string, slots: number): void;
    /** The concurrency cap of the sessions of a pool (`maxConcurrentUses`). */
    maxConcurrentUses(pool: string): number;
    /** What changed here since the last call (or the last save). */
    takeChanges(): StateChanges;
}

/**
 * Persistence backend. Async so that a shared store (e.g. Redis, several crawler processes) can implement it.
 * `load()` returns whatever was saved (validated by the manager), or undefined.
 */
export interface SessionStore {
    load(): Promise<unknown>;
    /** Saves the whole state (on Crawlee's persist-state event, on `close()`, and when `update` is absent). */
    save(state: PersistedState): Promise<void>;
    /**
     * Optional: receives the changes since the last save instead of a whole snapshot (debounced, within 5 s of the
     * first change; at once after a proxy backoff or ban). Without it the manager calls `save()` then.
     */
    update?(changes: StateChanges): Promise<void>;
    /** Saves the final stats (on `close()`). */
    saveStats?(stats: unknown): Promise<void>;
    /** Optional, for stores shared by several processes: called once the manager is open (after `load()`). */
    attach?(host: SharedStateHost): void;
    /**
     * Optional: asked before a session is handed out. `true` (at once): this process may use it; `false`: other
     * processes hold its uses (the store marked it with `setHeldElsewhere`); a promise: ask again when it settles.
     */
    lease?(pool: string, sessionId: string, inUse: number): boolean | Promise<boolean>;
    /** Optional: called last in the manager's `close()` (after the final save and stats). */
    close?(): Promise<void>;
}

/** The store the `store` option asks for: a custom one, the default KeyValueStore records, or none (`false`). */
export function storeFor(
    option: { keyValueStoreName?: string; key?: string; statsKey?: string; custom?: SessionStore } | false | undefined,
    config: Configuration,
): SessionStore | undefined {
    if (option === false) return undefined;
    return (
        option?.custom ??
        new KeyValueSessionStore({
            keyValueStoreName: option?.keyValueStoreName ?? 'sessionpack',
            key: option?.key ?? 'SESSIONPACK_STATE',
            statsKey: option?.statsKey ?? 'SESSIONPACK_STATS',
            config,
        })
    );
}

/** The default store: records in a Crawlee KeyValueStore. */
export class KeyValueSessionStore implements SessionStore {
    private kvs: Promise<KeyValueStore> | undefined;

    constructor(
        private readonly options: { keyValueStoreName?: string; key: string; statsKey: string; config?: Configuration },
    ) {}

    private store(): Promise<KeyValueStore> {
        this.kvs ??= KeyValueStore.open(this.options.keyValueStoreName ?? null, {
            config: this.options.config ?? Configuration.getGlobalConfig(),
        });
        return this.kvs;
    }

    async load(): Promise<unknown> {
        return (await this.store()).getValue(this.options.key);
    }

    async save(state: PersistedState): Promise<void> {
        await (await this.store()).setValue(this.options.key, state);
    }

    async saveStats(stats: unknown): Promise<void> {
        await (await this.store()).setValue(this.options.statsKey, stats as object);
    }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** How to clear the stored state (for log lines), given the manager's `store` option. */
export function storeHint(o: { custom?: unknown; keyValueStoreName?: string; key?: string } | false | undefined): string {
    if (o && o.custom) return 'clear your custom store';
    const name = (o && o.keyValueStoreName) || 'sessionpack';
    const key = (o && o.key) || 'SESSIONPACK_STATE';
    return `delete the record "${key}" of the key-value store "${name}", e.g. storage/key_value_stores/${name}/${key}.json, or pass store: { restore: false }`;
}

/** Checks a loaded record; returns the state, or a string saying why it is not a valid sessionpack state. */
export function parseState(raw: unknown): PersistedState | string {
    if (!isRecord(raw)) return 'not an object';
    if (raw.format !== STATE_FORMAT) return `unknown format ${JSON.stringify(raw.format)?.slice(0, 40)}`;
    if (typeof raw.version !== 'number' || !STATE_VERSIONS.includes(raw.version)) return `unsupported version ${JSON.stringify(raw.version)}`;
    const headerSets = raw.version >= 2 ? raw.headerSets : [];
    if (!Array.isArray(headerSets) || !headerSets.every(isRecord)) return 'missing or malformed headerSets';
    if (raw.fingerprints !== undefined && (!Array.isArray(raw.fingerprints) || !raw.fingerprints.every(isRecord))) return 'malformed fingerprints';
    const ref = (v: unknown, table: unknown[] | undefined) => (Number.isInteger(v) ? (v as number) >= 0 && (v as number) < (table?.length ?? 0) : isRecord(v));
    if (!isRecord(raw.pools) || !isRecord(raw.health)) return 'missing pools or health';
    for (const [key, pool] of Object.entries(raw.pools)) {
        if (!isRecord(pool) || !Array.isArray(pool.sessions) || !Array.isArray(pool.retired)) return `pool "${key}" is malformed`;
        for (const s of pool.sessions) {
            if (
                !isRecord(s) ||
                typeof s.id !== 'string' ||
                typeof s.proxyId !== 'string' ||
                !ref(s.headers, headerSets) ||
                (s.fingerprint !== undefined && !ref(s.fingerprint, raw.fingerprints as unknown[] | undefined)) ||
                !num(s.createdAt) ||
                !num(s.expiresAt) ||
                !num(s.usageCount) ||
                !num(s.errorScore) ||
                !num(s.availableAt) ||
                !isRecord(s.userData)
            ) {
                return `a session of pool "${key}" is malformed`;
            }
        }
    }
    for (const [id, h] of Object.entries(raw.health)) {
        if (!isRecord(h) || !isRecord(h.global) || !isRecord(h.sites)) return `health of proxy ${id} is malformed`;
    }
    return raw as unknown as PersistedState;
}
