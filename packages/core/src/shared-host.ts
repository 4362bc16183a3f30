/**
 * The handle a shared store (several crawler processes on one Redis, say) gets on a running manager: it merges the
 * proxy health and sessions other processes changed, marks the sessions they are using, and collects what changed
 * here. See `SharedStateHost` in store.ts.
 */
import type { Clock } from './clock.js';
import type { ProxyHealthModel } from './health-model.js';
import { sharedSessionOf } from './persistence.js';
import type { Pool } from './pool.js';
import type { ResolvedPoolOptions } from './options.js';
import type { ManagedSession } from './session.js';
import type { PersistedSession, SharedStateHost, StateChanges } from './store.js';
import type { ProxyRef } from './types.js';

/** What the host needs from the manager. */
export interface SharedHostDeps {
    clock: Clock;
    health: ProxyHealthModel;
    live: ReadonlyMap<string, ManagedSession>;
    pools: ReadonlyMap<string, Pool>;
    isClosed(): boolean;
    poolFor(key: string): Pool;
    poolOptions(key: string): ResolvedPoolOptions;
    reattach(proxyId: string, sessionId: string): Promise<ProxyRef | undefined | 'missing'>;
    restore(pool: Pool, stored: PersistedSession, proxy: ProxyRef | undefined): void;
    retire(session: ManagedSession, reason: string): void;
    takeChanges(): StateChanges;
}

export function sharedStateHost(deps: SharedHostDeps): SharedStateHost {
    const liveIn = (pool: string, id: string) => {
        const s = deps.live.get(id);
        return s && s.poolKey === pool && !s.isRetired ? s : undefined;
    };
    const settle = (s: ManagedSession, wake: boolean) => {
        const pool = deps.pools.get(s.poolKey);
        pool?.scheduler.settle(s, deps.clock.now());
        if (wake) pool?.notify();
    };
    return {
        now: () => deps.clock.now(),
        healthRecord: (proxyId, scope) => deps.health.recordOf?.(proxyId, scope),
        mergeHealth(proxyId, scope, record) {
            if (!deps.health.merge) return;
            deps.health.merge(proxyId, scope, record);
            for (const pool of deps.pools.values()) if (scope === '*' || pool.key === scope) pool.notify();
        },
        session(pool, id) {
            const s = liveIn(pool, id);
            return s ? { state: sharedSessionOf(s), inUse: s.inUse } : undefined;
        },
        async adoptSession(poolKey, shared) {
            if (deps.isClosed() || deps.live.has(shared.id)) return;
            const proxy = await deps.reattach(shared.proxyId, shared.urlSessionId ?? shared.id);
            if (proxy === 'missing' || deps.isClosed() || deps.live.has(shared.id)) return;
            const pool = deps.poolFor(poolKey);
            const { headers, fingerprint, ...rest } = shared;
            deps.restore(pool, { ...rest, headers: { ...headers }, ...(fingerprint ? { fingerprint: { ...fingerprint } } : {}) }, proxy);
            pool.notify();
        },
        updateSession(pool, id, update) {
            const s = liveIn(pool, id);
            if (!s) return;
            s.applyShared(update);
            settle(s, true);
        },
        retireSession(pool, id, reason) {
            const s = liveIn(pool, id);
            if (s) deps.retire(s, reason);
        },
        setHeldElsewhere(pool, id, slots) {
            const s = liveIn(pool, id);
            if (!s || s.heldElsewhere === slots) return;
            const fewer = slots < s.heldElsewhere;
            s.heldElsewhere = slots;
            settle(s, fewer);
        },
        maxConcurrentUses: (pool) => deps.poolOptions(pool).maxConcurrentUses,
        takeChanges: () => deps.takeChanges(),
    };
}
