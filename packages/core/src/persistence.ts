/**
 * Persistence: the manager's state as plain data (snapshot), built back into sessions (restore), and when to save it
 * (debounced after changes, soon after a proxy backoff or ban, on Crawlee's persist-state event, on close).
 *
 * Header sets and fingerprints are interned: sessions that share one (most do: header sets come from a small cache)
 * refer to it by index in the stored state and share one frozen object in memory after a restore.
 */
import type { Log } from '@crawlee/core';

import type { Clock, TimerHandle } from './clock.js';
import type { ProxyHealthModel } from './health-model.js';
import { RETIRED_HISTORY, type Pool } from './pool.js';
import { DIRECT_PROXY_ID } from './proxies.js';
import type { Redactor } from './redact.js';
import type { ManagedSession } from './session.js';
import {
    parseState,
    STATE_FORMAT,
    STATE_VERSION,
    type PersistedPool,
    type PersistedRetired,
    type PersistedSession,
    type PersistedState,
    type SessionStore,
    type SharedSession,
    type StateChanges,
} from './store.js';
import type { PersistedTierState } from './tier-gate.js';
import type { JsonObject, ProxyRef } from './types.js';

const isRecord = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Builds a table of distinct objects (by content); each gets an index the first time it is seen. */
class Interner<T extends object> {
    readonly table: T[] = [];
    private readonly byObject = new Map<T, number>();
    private readonly byContent = new Map<string, number>();
    ref(value: T): number {
        let i = this.byObject.get(value);
        if (i === undefined) {
            const key = JSON.stringify(value);
            i = this.byContent.get(key);
            if (i === undefined) {
                i = this.table.length;
                this.table.push(value);
                this.byContent.set(key, i);
            }
            this.byObject.set(value, i);
        }
        return i;
    }
}

/** The cookies of a jar (what version 2 stores; the jar's settings are Crawlee's defaults). */
function cookiesOf(session: ManagedSession): unknown[] {
    const json = session.cookieJar.toJSON() as { cookies?: unknown[] } | undefined;
    return json?.cookies ?? [];
}

function persistSession(s: ManagedSession, headers: Interner<object>, fingerprints: Interner<object>): PersistedSession {
    const fp = s.identity.fingerprint;
    return {
        id: s.id,
        proxyId: s.identity.proxy?.id ?? DIRECT_PROXY_ID,
        ...urlSessionIdOf(s),
        headers: headers.ref(s.identity.headers),
        ...(fp ? { fingerprint: fingerprints.ref(fp) } : {}),
        ...sessionStateOf(s),
    };
}

/** A live session as a shared store exchanges it (identity resolved, cookies serialized). */
export function sharedSessionOf(s: ManagedSession): SharedSession {
    const fp = s.identity.fingerprint;
    return {
        id: s.id,
        proxyId: s.identity.proxy?.id ?? DIRECT_PROXY_ID,
        ...urlSessionIdOf(s),
        headers: s.identity.headers,
        ...(fp ? { fingerprint: fp } : {}),
        ...sessionStateOf(s),
    };
}

/** The session id its gateway URL was asked for, when the session took over another one's URL (absent: its own id). */
function urlSessionIdOf(s: ManagedSession): { urlSessionId?: string } {
    const asked = s.identity.proxy?.sessionId;
    return asked !== undefined && asked !== s.id ? { urlSessionId: asked } : {};
}

/** What the stored and the shared form of a session both hold besides its identity: cookies, user data, counters. */
function sessionStateOf(s: ManagedSession) {
    return {
        cookies: cookiesOf(s),
        userData: s.userData as Record<string, unknown>,
        createdAt: s.createdAt.getTime(),
        expiresAt: s.expiresAt.getTime(),
        usageCount: s.usageCount,
        errorScore: s.errorScore,
        availableAt: s.availableAt,
    };
}

const persistable = (s: ManagedSession) => s.initialized && !s.initializing && !s.isRetired;

/** The whole state as plain data: live sessions, recently retired ones, proxy health by id, the tier of each pool. */
export function snapshotState(pools: ReadonlyMap<string, Pool>, health: ProxyHealthModel, now: number, tiers?: { toJSON(): PersistedTierState }): PersistedState {
    const headers = new Interner<object>();
    const fingerprints = new Interner<object>();
    const out: Record<string, PersistedPool> = {};
    for (const [key, pool] of pools) {
        const sessions: PersistedSession[] = [];
        for (const s of pool.sessions.values()) if (persistable(s)) sessions.push(persistSession(s, headers, fingerprints));
        out[key] = {
            sessions,
            retired: pool.recentlyRetired.map((r) => ({ ...r })),
            retiredCount: pool.retiredCount,
            initFailuresInRow: pool.initFailuresInRow,
        };
    }
    return {
        format: STATE_FORMAT,
        version: STATE_VERSION,
        savedAt: now,
        pools: out,
        health: health.toJSON(),
        headerSets: headers.table as Record<string, string>[],
        fingerprints: fingerprints.table as JsonObject[],
        ...(tiers ? { tiers: tiers.toJSON() } : {}),
    };
}

/** Reads and checks the stored state; undefined (with a warning saying why) when there is none to restore. */
export async function loadState(store: SessionStore, log: Log, redactor: Redactor): Promise<PersistedState | undefined> {
    let raw: unknown;
    try {
        raw = await store.load();
    } catch (error) {
        log.warning(`Could not read the stored session state (${redactor.error(error)}); starting fresh.`);
        return undefined;
    }
    if (raw === undefined || raw === null) return undefined;
    const state = parseState(raw);
    if (typeof state === 'string') {
        log.warning(`Ignoring the stored session state: ${state}. It will be replaced on the next save.`);
        return undefined;
    }
    return state;
}

/** What a restore needs from the manager. */
export interface RestoreHost {
    poolFor(key: string): Pool;
    hasSession(id: string): boolean;
    /** The current ProxyRef for a stored proxy id: undefined for direct, 'missing' if the configuration lacks it. */
    reattach(proxyId: string, sessionId: string): Promise<ProxyRef | undefined | 'missing'>;
    /** Builds a session of `pool` from stored fields, with today's limits, and adds it to the pool. */
    adopt(pool: Pool, stored: PersistedSession, proxy: ProxyRef | undefined, headers: Readonly<Record<string, string>>, fingerprint: Readonly<JsonObject> | undefined): void;
}

/** Restores sessions and pools of a parsed state; returns how many stored sessions were dropped. */
export async function restoreState(state: PersistedState, host: RestoreHost): Promise<number> {
    // Version 1 holds header sets inline: intern them by content so restored sessions share them too.
    const byJson = new Map<string, Readonly<Record<string, string>>>();
    const intern = <T extends object>(v: T): Readonly<T> => {
        const key = JSON.stringify(v);
        let hit = byJson.get(key) as Readonly<T> | undefined;
        if (!hit) {
            hit = Object.freeze({ ...v });
            byJson.set(key, hit as never);
        }
        return hit;
    };
    const headerSets = (state.headerSets ?? []).map((h) => intern(h));
    const fingerprints = (state.fingerprints ?? []).map((f) => intern(f));
    let dropped = 0;
    for (const [key, p] of Object.entries(state.pools)) {
        const pool = host.poolFor(key);
        pool.retiredCount = p.retiredCount ?? 0;
        pool.initFailuresInRow = p.initFailuresInRow ?? 0;
        for (const r of p.retired.slice(-RETIRED_HISTORY)) pool.recentlyRetired.push({ ...r });
        for (const s of p.sessions) {
            const proxy = await host.reattach(s.proxyId, typeof s.urlSessionId === 'string' ? s.urlSessionId : s.id);
            const why = proxy === 'missing' ? 'proxy no longer configured' : host.hasSession(s.id) ? 'duplicate id' : undefined;
            if (why) {
                dropped++;
                pool.retiredCount++;
                pool.recentlyRetired.push({ id: s.id, proxyId: s.proxyId, reason: why });
                if (pool.recentlyRetired.length > RETIRED_HISTORY) pool.recentlyRetired.shift();
                continue;
            }
            const headers = typeof s.headers === 'number' ? headerSets[s.headers]! : intern(s.headers);
            const fp = typeof s.fingerprint === 'number' ? fingerprints[s.fingerprint] : isRecord(s.fingerprint) ? intern(s.fingerprint) : undefined;
            host.adopt(pool, s, proxy as ProxyRef | undefined, headers, fp);
        }
    }
    return dropped;
}

/** How soon after the first change the state is saved. */
export const SAVE_DEBOUNCE_MILLIS = 5_000;

/**
 * When to save: within {@link SAVE_DEBOUNCE_MILLIS} of the first change after a save (so a crash in the first minute
 * loses little), at once (coalesced) after a proxy backoff or ban; never two saves at the same time.
 */
export class StateSaver {
    private timer: TimerHandle | undefined;
    private timerAt = Infinity;
    private saving: Promise<void> | undefined;
    private savedOnce = false;
    private closed = false;
    private readonly dirtySessions = new Map<ManagedSession, string>();
    private readonly retired: { pool: string; retired: PersistedRetired }[] = [];
    private readonly dirtyProxies = new Set<string>();

    constructor(
        private readonly store: SessionStore,
        private readonly deps: {
            clock: Clock;
            log: Log;
            redactor: Redactor;
            snapshot(): PersistedState;
            health: ProxyHealthModel;
        },
    ) {}

    /** A session changed (used, created, restored). The first change after open schedules a save. */
    sessionChanged(session: ManagedSession): void {
        // Changes are only collected for stores that take them one by one; the others get whole snapshots.
        if (this.store.update) this.dirtySessions.set(session, session.poolKey);
        if (!this.savedOnce) this.schedule(SAVE_DEBOUNCE_MILLIS);
    }

    /** A session was retired. */
    sessionRetired(pool: string, retired: PersistedRetired, session: ManagedSession): void {
        if (this.store.update) {
            this.dirtySessions.delete(session);
            this.retired.push({ pool, retired });
        }
        if (!this.savedOnce) this.schedule(SAVE_DEBOUNCE_MILLIS);
    }

    /** A proxy's health changed; `urgent` (a backoff or ban) saves at once. */
    healthChanged(proxyId: string, urgent: boolean): void {
        if (this.store.update) this.dirtyProxies.add(proxyId);
        this.schedule(urgent ? 0 : this.savedOnce ? Infinity : SAVE_DEBOUNCE_MILLIS);
    }

    private schedule(delay: number): void {
        if (this.closed || !Number.isFinite(delay)) return;
        const at = this.deps.clock.now() + delay;
        if (at >= this.timerAt) return;
        if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
        this.timerAt = at;
        this.timer = this.deps.clock.setTimeout(() => {
            this.timer = undefined;
            this.timerAt = Infinity;
            this.flush().catch((e) => this.deps.log.warning(`Could not persist the session state: ${this.deps.redactor.error(e)}`));
        }, delay);
    }

    /** Saves now: the changes through `store.update` when it has one, else the whole snapshot. */
    async flush(whole = false): Promise<void> {
        while (this.saving) await this.saving;
        const run = async () => {
            const now = this.deps.clock.now();
            if (this.store.update && !whole) {
                const changes = this.changes(now);
                await this.store.update(changes);
            } else {
                this.clear();
                await this.store.save(this.deps.snapshot());
            }
            this.savedOnce = true;
        };
        this.saving = run();
        try {
            await this.saving;
        } finally {
            this.saving = undefined;
        }
    }

    private clear(): void {
        this.dirtySessions.clear();
        this.retired.length = 0;
        this.dirtyProxies.clear();
    }

    /** The changes since the last save (a shared store collects them on its own schedule). */
    takeChanges(): StateChanges {
        return this.changes(this.deps.clock.now());
    }

    private changes(now: number): StateChanges {
        const headers = new Interner<object>();
        const fingerprints = new Interner<object>();
        const sessions: StateChanges['sessions'] = [];
        for (const [s, pool] of this.dirtySessions) if (persistable(s)) sessions.push({ pool, session: persistSession(s, headers, fingerprints) });
        const all = this.deps.health.toJSON();
        const health: StateChanges['health'] = {};
        for (const id of this.dirtyProxies) if (all[id]) health[id] = all[id]!;
        const changes: StateChanges = {
            savedAt: now,
            sessions,
            retired: [...this.retired],
            health,
            headerSets: headers.table as Record<string, string>[],
            fingerprints: fingerprints.table as JsonObject[],
        };
        this.clear();
        return changes;
    }

    /** Stops scheduling (the manager saves the whole state itself on close). */
    close(): void {
        this.closed = true;
        if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
        this.timer = undefined;
    }
}
