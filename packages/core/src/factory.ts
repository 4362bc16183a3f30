/**
 * The session factory of a manager: session ids, identities, today's pool limits, and the live sessions by id. It
 * builds new sessions (fetching a proxy URL from a dynamic ProxyConfiguration when there is one) and restored ones.
 */
import type { Log } from '@crawlee/core';

import type { IdentityFactory } from './identity.js';
import type { Pool } from './pool.js';
import { DIRECT_PROXY_ID, type ProxySource } from './proxies.js';
import { ManagedSession, type ManagedSessionOptions, type SessionOwner } from './session.js';
import type { PersistedSession } from './store.js';
import type { JsonObject, ProxyRef, RequestLike } from './types.js';

type SessionFields = Pick<ManagedSessionOptions, 'id' | 'identity' | 'createdAt' | 'usageCount' | 'errorScore' | 'userData' | 'cookieJar'>;

export class SessionFactory {
    /** Live sessions by id (every pool). */
    readonly live = new Map<string, ManagedSession>();

    constructor(
        private readonly deps: {
            proxies: ProxySource;
            identities: IdentityFactory;
            owner: SessionOwner;
            events: object;
            log: Log;
            random: () => number;
            now(): number;
        },
    ) {}

    /** A fresh id no live session has. */
    newId(): string {
        for (;;) {
            let id = 'session_';
            for (let i = 0; i < 10; i++) id += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(this.deps.random() * 36) % 36];
            if (!this.live.has(id)) return id;
        }
    }

    /** A session of `pool` with the pool's limits as they are today. */
    private build(pool: Pool, fields: SessionFields): ManagedSession {
        const o = pool.options;
        return ManagedSession.create({
            ...fields,
            poolKey: pool.key,
            owner: this.deps.owner,
            events: this.deps.events,
            log: this.deps.log,
            maxAgeSecs: o.maxAgeSecs,
            maxUsageCount: o.maxUses,
            maxErrorScore: o.maxErrorScore,
            errorScoreDecrement: o.errorScoreDecrement,
        });
    }

    /**
     * Creates a session of `pool` on `proxyId` (or on the URL the ProxyConfiguration gives), adds it to the pool and
     * hands it out. With a dynamic configuration, `proxyId` names a URL it gave before (kept for reuse), or is undefined
     * for a new URL; returns 'proxy-unusable' when a new URL belongs to a proxy in backoff.
     */
    async create(pool: Pool, proxyId: string | undefined, request: RequestLike): Promise<ManagedSession | 'proxy-unusable'> {
        const { proxies } = this.deps;
        const id = this.newId();
        let proxy: ProxyRef | undefined;
        const kept = proxies.dynamic && proxyId !== undefined ? proxies.byId(proxyId) : undefined;
        if (kept) {
            // A URL of the configuration kept for reuse (the scheduler checked it is usable): same exit, fresh session.
            proxy = kept;
        } else if (proxies.dynamic) {
            pool.pending++;
            try {
                proxy = (await proxies.fromConfiguration(id, request)) ?? undefined;
            } finally {
                pool.pending--;
            }
            if (pool.scheduler.slot(proxy?.id ?? DIRECT_PROXY_ID).health.availability(this.deps.now()) !== 'usable') return 'proxy-unusable';
            pool.scheduler.drew(proxy?.id ?? DIRECT_PROXY_ID);
        } else {
            proxy = proxyId === DIRECT_PROXY_ID || proxyId === undefined ? undefined : proxies.byId(proxyId);
        }
        const now = this.deps.now();
        const session = this.build(pool, { id, identity: this.deps.identities.create(proxy), createdAt: new Date(now) });
        pool.add(session);
        pool.scheduler.pickedProxy(proxy?.id ?? DIRECT_PROXY_ID);
        this.live.set(id, session);
        pool.scheduler.handOut(session, now);
        return session;
    }

    /**
     * Builds a stored session back into `pool`. Its counters (uses, error score, age, cool-down, cookies, userData)
     * come back; its limits (max uses, max error score, max age) follow today's options.
     */
    restore(pool: Pool, s: PersistedSession, proxy: ProxyRef | undefined, headers: Readonly<Record<string, string>>, fingerprint: Readonly<JsonObject> | undefined): void {
        const session = this.build(pool, {
            id: s.id,
            identity: this.deps.identities.restore(proxy, headers),
            createdAt: new Date(s.createdAt),
            usageCount: s.usageCount,
            errorScore: s.errorScore,
            userData: s.userData,
            cookieJar: s.cookies ? { cookies: s.cookies } : (s.cookieJar ?? undefined),
        });
        session.availableAt = s.availableAt;
        if (fingerprint) session.setFingerprint(fingerprint);
        session.initialized = true;
        pool.add(session);
        this.live.set(session.id, session);
        pool.scheduler.settle(session, this.deps.now());
        // Today's limits may retire it at once (a lower maxUses or maxErrorScore than when it was saved).
        if (session.errorScore >= session.maxErrorScore) this.deps.owner.retireSession(session, 'max error score reached');
        else if (session.usageCount >= pool.options.maxUses) this.deps.owner.retireSession(session, 'max uses reached');
    }
}
