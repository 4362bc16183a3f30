/**
 * The store a SessionManager opens with (`store: { custom: redisStore(...) }`): core's snapshots and change sets turned
 * into deltas on the shared records, and the records other workers changed merged back into the running manager
 * (through the host it attaches), plus the lease check before a session is handed out.
 *
 * Merging keeps what this worker has not pushed yet: for each record it remembers the base it diffed against last; a
 * pulled record R becomes R + (local - base) locally, and R becomes the new base.
 */
import type { JsonObject, LearnedRecord, PersistedHealth, PersistedSession, PersistedState, SharedStateHost, StateChanges } from '@sessionpack/core';

import { healthDelta, healthRecordOf } from './health-mapping.js';
import { applyDelta, emptyRecord } from './record.js';
import { retiredDelta, retiredReason, sessionDelta, sessionFieldsOf, type SessionFields } from './session-mapping.js';
import type { RedisStoreOptions } from './options.js';
import type { SharedChange } from './replica.js';
import { RedisSharedState } from './shared-state.js';

const hkey = (proxyId: string, scope: string) => `${proxyId}\n${scope}`;
const skey = (pool: string, id: string) => `${pool}\n${id}`;

function resolve<T>(ref: number | T | undefined, table: readonly T[] | undefined): T | undefined {
    return typeof ref === 'number' ? table?.[ref] : ref;
}

/** The SessionStore on a {@link RedisSharedState}. */
export class RedisSessionStore {
    private host: SharedStateHost | undefined;
    private readonly baseHealth = new Map<string, LearnedRecord>();
    private readonly baseSession = new Map<string, SessionFields>();
    /** Sessions other workers hold uses of (re-checked on every sync: their leases may run out without a notice). */
    private readonly heldElsewhere = new Map<string, { pool: string; id: string }>();
    private readonly adopting = new Set<string>();

    constructor(readonly shared: RedisSharedState) {}

    /** Connects and returns everything shared under the prefix as a core state. */
    async load(): Promise<PersistedState> {
        await this.shared.open();
        const now = this.shared.now();
        const health: PersistedHealth = {};
        for (const { proxyId, scope, record } of this.shared.healthRecords()) {
            const rec = healthRecordOf(record, now);
            const entry = (health[proxyId] ??= { global: healthRecordOf(emptyRecord(), now), sites: {} });
            if (scope === '*') entry.global = rec;
            else entry.sites[scope] = rec;
            this.baseHealth.set(hkey(proxyId, scope), rec);
        }
        const headerSets: Record<string, string>[] = [];
        const fingerprints: JsonObject[] = [];
        const pools: PersistedState['pools'] = {};
        for (const pool of this.shared.sessionPools()) {
            const sessions: PersistedSession[] = [];
            for (const id of this.shared.sessionIds(pool)) {
                const record = this.shared.session(pool, id);
                if (!record || retiredReason(record) !== undefined) continue;
                const fields = sessionFieldsOf(this.shared, id, record);
                if (!fields) continue;
                this.baseSession.set(skey(pool, id), fields);
                headerSets.push({ ...fields.headers });
                if (fields.fingerprint) fingerprints.push({ ...fields.fingerprint });
                sessions.push({
                    id,
                    proxyId: fields.proxyId,
                    ...(fields.urlSessionId !== undefined ? { urlSessionId: fields.urlSessionId } : {}),
                    headers: headerSets.length - 1,
                    ...(fields.fingerprint ? { fingerprint: fingerprints.length - 1 } : {}),
                    cookies: fields.cookies,
                    userData: fields.userData,
                    createdAt: fields.createdAt,
                    expiresAt: fields.expiresAt,
                    usageCount: fields.usageCount,
                    errorScore: fields.errorScore,
                    availableAt: fields.availableAt,
                });
            }
            pools[pool] = { sessions, retired: [], retiredCount: 0, initFailuresInRow: 0 };
        }
        return { format: 'sessionpack/state', version: 2, savedAt: now, pools, health, headerSets, fingerprints };
    }

    /** The whole state (on close and on Crawlee's persist-state event): pushed as deltas, then synced. */
    async save(state: PersistedState): Promise<void> {
        this.pushHealth(state.health);
        for (const [pool, p] of Object.entries(state.pools)) {
            for (const s of p.sessions) this.pushSession(pool, s, state.headerSets, state.fingerprints);
        }
        await this.shared.sync();
    }

    /** Changes since the last save: queued, pushed on the next sync. */
    async update(changes: StateChanges): Promise<void> {
        this.pushChanges(changes);
    }

    /** Final stats of this worker, kept under `stats` by worker id. */
    async saveStats(stats: unknown): Promise<void> {
        await this.shared.saveStats(stats);
    }

    /** Pushes what is left, gives every lease back, and disconnects. */
    async close(): Promise<void> {
        if (this.host) this.pushChanges(this.host.takeChanges());
        await this.shared.close();
    }

    /** Called by the manager once open: from now on, changes flow both ways on every sync. */
    attach(host: SharedStateHost): void {
        this.host = host;
        this.shared.onBeforeSync(() => {
            this.pushChanges(host.takeChanges());
            this.recheckHeldElsewhere();
            for (const { pool, id } of this.shared.heldLeases()) this.shared.setBusy(pool, id, (host.session(pool, id)?.inUse ?? 0) > 0);
        });
        this.shared.onChange((change) => this.take(change));
    }

    /**
     * May this worker hand `session` out now? True at once when it holds a lease with room (or the session is new
     * here: it is claimed); otherwise one round trip for a lease. False: other workers hold its uses.
     */
    lease(pool: string, id: string, inUse: number): boolean | Promise<boolean> {
        const host = this.host;
        const cap = host?.maxConcurrentUses(pool) ?? 1;
        if (this.shared.heldSlots(pool, id) > inUse) return true;
        if (!this.shared.knows(pool, id) && !this.baseSession.has(skey(pool, id))) {
            this.shared.claim(pool, id, cap, cap);
            return true;
        }
        const others = this.shared.othersSlots(pool, id);
        if (others >= cap) {
            this.markHeldElsewhere(pool, id, others);
            return false;
        }
        return this.shared.lease(pool, id, cap - others, cap).then((granted) => {
            if (granted > inUse) return true;
            this.markHeldElsewhere(pool, id, cap - granted);
            return false;
        });
    }

    // ---------------------------------------------------------------- push

    private pushChanges(changes: StateChanges): void {
        this.pushHealth(changes.health);
        for (const { pool, session } of changes.sessions) this.pushSession(pool, session, changes.headerSets, changes.fingerprints);
        for (const { pool, retired } of changes.retired) {
            this.shared.recordSession(pool, retired.id, retiredDelta(retired.reason));
            this.baseSession.delete(skey(pool, retired.id));
            this.shared.release(pool, retired.id);
        }
    }

    private pushHealth(health: PersistedHealth): void {
        const now = this.shared.now();
        for (const [proxyId, h] of Object.entries(health)) {
            for (const [scope, rec] of [['*', h.global] as const, ...Object.entries(h.sites)]) {
                const key = hkey(proxyId, scope);
                this.shared.recordHealth(proxyId, scope, healthDelta(this.baseHealth.get(key), rec, now));
                this.baseHealth.set(key, { ...rec });
            }
        }
    }

    private pushSession(pool: string, s: PersistedSession, headerSets: PersistedState['headerSets'], fingerprints: PersistedState['fingerprints']): void {
        const headers = resolve(s.headers, headerSets);
        if (!headers) return;
        const fingerprint = resolve(s.fingerprint, fingerprints);
        const fields: SessionFields = {
            id: s.id,
            proxyId: s.proxyId,
            ...(s.urlSessionId !== undefined ? { urlSessionId: s.urlSessionId } : {}),
            headers,
            ...(fingerprint ? { fingerprint } : {}),
            cookies: s.cookies ?? [],
            userData: s.userData,
            createdAt: s.createdAt,
            expiresAt: s.expiresAt,
            usageCount: s.usageCount,
            errorScore: s.errorScore,
            availableAt: s.availableAt,
        };
        const key = skey(pool, s.id);
        const base = this.baseSession.get(key);
        // Created here: nobody else knows it yet, so this worker's lease is a claim (registered with the push).
        if (!base && this.host && this.shared.heldSlots(pool, s.id) === 0) {
            const cap = this.host.maxConcurrentUses(pool);
            this.shared.claim(pool, s.id, cap, cap);
        }
        this.shared.recordSession(pool, s.id, sessionDelta(this.shared, base, fields, this.shared.now()));
        this.baseSession.set(key, fields);
    }

    // ---------------------------------------------------------------- pull

    private take(change: SharedChange): void {
        const host = this.host;
        if (!host) return;
        const now = host.now();
        if (change.kind === 'health') {
            const key = hkey(change.proxyId, change.scope);
            const local = host.healthRecord(change.proxyId, change.scope);
            const base = this.baseHealth.get(key);
            const unpushed = local ? healthDelta(base, local, now) : {};
            const remote = healthRecordOf(change.record, now);
            host.mergeHealth(change.proxyId, change.scope, healthRecordOf(applyDelta(change.record, unpushed, now, this.shared.options.healthHalfLifeMillis), now));
            this.baseHealth.set(key, remote);
            return;
        }
        if (change.kind === 'lease') {
            this.markHeldElsewhere(change.pool, change.id, this.shared.othersSlots(change.pool, change.id));
            return;
        }
        const key = skey(change.pool, change.id);
        const record = change.record;
        if (!record || retiredReason(record) !== undefined) {
            this.baseSession.delete(key);
            if (host.session(change.pool, change.id)) host.retireSession(change.pool, change.id, record ? `retired by another worker: ${retiredReason(record)}` : 'gone from the shared store');
            return;
        }
        const remote = sessionFieldsOf(this.shared, change.id, record);
        if (!remote) return;
        const local = host.session(change.pool, change.id);
        if (!local) {
            if (this.adopting.has(key) || this.baseSession.has(key)) return;
            this.adopting.add(key);
            this.baseSession.set(key, remote);
            void host
                .adoptSession(change.pool, remote)
                .catch(() => this.baseSession.delete(key))
                .finally(() => this.adopting.delete(key));
            this.markHeldElsewhere(change.pool, change.id, this.shared.othersSlots(change.pool, change.id));
            return;
        }
        const unpushed = sessionDelta(this.shared, this.baseSession.get(key) ?? remote, local.state, now);
        delete unpushed.once;
        const merged = sessionFieldsOf(this.shared, change.id, applyDelta(record, unpushed, now, this.shared.options.healthHalfLifeMillis));
        this.baseSession.set(key, remote);
        if (!merged) return;
        const update: Parameters<SharedStateHost['updateSession']>[2] = {
            usageCount: merged.usageCount,
            errorScore: merged.errorScore,
            availableAt: merged.availableAt,
        };
        if (JSON.stringify(merged.cookies) !== JSON.stringify(local.state.cookies)) update.cookies = merged.cookies;
        if (JSON.stringify(merged.userData) !== JSON.stringify(local.state.userData)) update.userData = merged.userData;
        host.updateSession(change.pool, change.id, update);
    }

    private markHeldElsewhere(pool: string, id: string, slots: number): void {
        const key = skey(pool, id);
        if (slots > 0) this.heldElsewhere.set(key, { pool, id });
        else this.heldElsewhere.delete(key);
        this.host?.setHeldElsewhere(pool, id, slots);
    }

    /** Leases of others run out without a notice: look at the sessions they held again. */
    private recheckHeldElsewhere(): void {
        for (const { pool, id } of [...this.heldElsewhere.values()]) this.markHeldElsewhere(pool, id, this.shared.othersSlots(pool, id));
    }
}

/**
 * A shared store on Redis for `SessionManager.open({ store: { custom: redisStore({ url, prefix }) } })`. Options are
 * validated here (a wrong one throws, naming it); Redis is contacted when the manager opens.
 */
export function redisStore(options: RedisStoreOptions = {}): RedisSessionStore {
    return new RedisSessionStore(new RedisSharedState(options));
}
