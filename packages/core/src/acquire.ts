/**
 * The acquire loop of one pool: ask the scheduler, hand out or create (and init) a session, or wait until something
 * can change (a report, a retirement, the end of a cool-down or a backoff) and look again; give up with the reason
 * when the deadline passes or waiting cannot help (every proxy banned, or failing again after its backoff).
 */
import type { Clock } from './clock.js';
import { AcquireTimeoutError, NoUsableProxyError, SiteUnavailableError } from './errors.js';
import type { SessionFactory } from './factory.js';
import type { ProxyHealthModel } from './health-model.js';
import { runInit, type AcquireOptions, type InitDeps, type InitFailure } from './init.js';
import type { StateSaver } from './persistence.js';
import type { Pool } from './pool.js';
import type { Decision } from './decision.js';
import { DIRECT_PROXY_ID, type ProxySource } from './proxies.js';
import type { CompiledRule } from './rules.js';
import { ManagedSession } from './session.js';
import type { StatsCounters } from './stats.js';
import type { SessionStore } from './store.js';
import type { RequestLike } from './types.js';

/** What the loop needs from the manager (one object per manager: an acquire allocates nothing for it). */
export interface AcquireContext<R> {
    readonly clock: Clock;
    /** Proxy URLs come from a ProxyConfiguration, one per session. */
    readonly dynamicProxies: boolean;
    /** Counts of the fixed proxies by availability on `site` at `now` (the loop's own clock reading). */
    proxySummary(site: string, now: number): { total: number; backoff: number; banned: number; nextRetryAt?: number };
    /** Until when the pool of `site` is paused (its blocks were site-wide); 0 when it is not. */
    pausedUntil(site: string): number;
    /** Creates, hands out and inits a session of `pool` on `proxyId` for the request `what` describes. */
    create(pool: Pool, proxyId: string | undefined, what: R): Promise<ManagedSession | InitFailure | 'proxy-unusable'>;
    retire(session: ManagedSession, reason: string): void;
    assertOpen(): void;
    /** A shared store's say before a hand-out (see `SessionStore.lease`); absent: always yes. */
    lease?(session: ManagedSession): boolean | Promise<boolean>;
}

/**
 * A session of `pool` for `request` with one open use, or the error saying why there is none. When a session is ready
 * at once (the usual case) it is handed out without an async frame: one settled promise, the loop's first decision
 * taken here (and no object made for what the loop would need to create one). The caller has just checked that the
 * manager is open.
 */
export function acquireFrom(
    pool: Pool,
    request: RequestLike,
    rule: CompiledRule | undefined,
    options: AcquireOptions,
    ctx: AcquireContext<AcquireRequest>,
): Promise<ManagedSession> {
    try {
        if (pool.initAbort || pool.stopReason || ctx.lease) return acquireLoop(pool, { request, rule, options }, ctx, undefined);
        // Open: the manager's acquire checked it just before (synchronously); the loop checks again after each wait.
        const now = ctx.clock.now();
        if (ctx.pausedUntil(pool.key) > now) return acquireLoop(pool, { request, rule, options }, ctx, undefined);
        const d = pool.scheduler.decide(now);
        if (d.kind !== 'session') return acquireLoop(pool, { request, rule, options }, ctx, { now, decision: d });
        pool.scheduler.handOut(d.session, now);
        return Promise.resolve(d.session);
    } catch (e) {
        return Promise.reject(e);
    }
}

/** The acquire loop; `first`: its first decision, already taken (at `first.now`, which is then when it started). */
async function acquireLoop<R>(pool: Pool, what: R, ctx: AcquireContext<R>, first: { now: number; decision: Decision } | undefined): Promise<ManagedSession> {
    const started = first ? first.now : ctx.clock.now();
    const deadline = started + pool.options.acquireTimeoutSecs * 1000;
    let dynamicMisses = 0;
    let failedCreates = 0;
    let next = first;
    for (;;) {
        let now: number;
        let d: Decision;
        if (next) {
            ({ now, decision: d } = next);
            next = undefined;
        } else {
            if (pool.initAbort) throw pool.initAbort;
            if (pool.stopReason) throw new SiteUnavailableError(pool.key, pool.stopReason);
            ctx.assertOpen();
            now = ctx.clock.now();
            // Blocks were site-wide: nobody is handed out until the pause ends (the deadline of this acquire moves with it).
            const paused = ctx.pausedUntil(pool.key);
            if (paused > now) {
                await pool.wait(ctx.clock, paused);
                continue;
            }
            d = pool.scheduler.decide(now);
        }
        if (d.kind === 'session') {
            const lease = ctx.lease?.(d.session) ?? true;
            if (lease === true) {
                pool.scheduler.handOut(d.session, now);
                return d.session;
            }
            // Held by another process (now marked so), or a lease is on its way: look again.
            if (lease !== false) await lease;
            continue;
        }
        if (d.kind === 'create') {
            if (d.evict) ctx.retire(d.evict, 'replaced: its proxy is in backoff');
            const created = await ctx.create(pool, d.proxyId, what);
            if (created instanceof ManagedSession) return created;
            if (created === 'proxy-unusable') {
                if (++dynamicMisses >= 10) throw new NoUsableProxyError(pool.key, { total: dynamicMisses, backoff: dynamicMisses, banned: 0 });
                continue;
            }
            // Inits that fail on the proxy do not count toward maxInitFailuresInRow; with a dynamic configuration
            // (new proxies without end) they are bounded per acquire.
            failedCreates++;
            if (created === 'init-proxy-failed' && ctx.dynamicProxies && failedCreates >= Math.max(16, 2 * pool.options.maxInitFailuresInRow)) {
                throw new NoUsableProxyError(pool.key, ctx.proxySummary(pool.key, ctx.clock.now()));
            }
            const after = ctx.clock.now();
            if (after >= deadline) {
                const summary = ctx.proxySummary(pool.key, after);
                if (summary.total > 0 && summary.backoff + summary.banned >= summary.total) throw new NoUsableProxyError(pool.key, summary);
                throw new AcquireTimeoutError(pool.key, `${failedCreates} new sessions failed their init`, after - started);
            }
            continue;
        }
        // Every proxy banned, or every one failed again on its probe after a backoff: waiting will not help soon.
        if (d.allBanned || d.proxiesStalled) throw new NoUsableProxyError(pool.key, { ...ctx.proxySummary(pool.key, now), stalled: !d.allBanned });
        if (now >= deadline) {
            const summary = ctx.proxySummary(pool.key, now);
            const full = `${pool.occupancy}/${pool.options.size} sessions`;
            const parts = pool.describe(now);
            if (d.proxiesExhausted || (summary.total > 0 && summary.backoff + summary.banned >= summary.total)) {
                throw new NoUsableProxyError(pool.key, summary);
            }
            throw new AcquireTimeoutError(pool.key, `pool full (${full}${parts ? `: ${parts}` : ''})`, now - started);
        }
        await pool.wait(ctx.clock, Math.min(d.wakeAt, deadline));
    }
}

/** What one acquire of the manager is for: the request, its rule, the acquire's options. */
export interface AcquireRequest {
    request: RequestLike;
    rule: CompiledRule | undefined;
    options: AcquireOptions;
}

/** What the manager's acquire loop is wired to (one context per manager, see {@link acquireContextFor}). */
export interface ManagerAcquireDeps {
    clock: Clock;
    proxies: ProxySource;
    /** Ids of the fixed proxies, or undefined with a dynamic ProxyConfiguration. */
    fixedProxies: readonly string[] | undefined;
    health: ProxyHealthModel;
    factory(): SessionFactory;
    counters: StatsCounters;
    saver: StateSaver | undefined;
    initDeps: InitDeps;
    store: SessionStore | undefined;
    retire(session: ManagedSession, reason: string): void;
    assertOpen(): void;
}

/** The manager's acquire context: creates (and inits) sessions through its factory, leases through its store. */
export function acquireContextFor(d: ManagerAcquireDeps): AcquireContext<AcquireRequest> {
    const store = d.store;
    return {
        clock: d.clock,
        dynamicProxies: d.proxies.dynamic,
        proxySummary: (site, now) => (d.fixedProxies ? d.health.summarize(d.fixedProxies, site, now) : { total: 0, backoff: 0, banned: 0 }),
        pausedUntil: (site) => d.health.pausedUntil(site),
        create: (pool, proxyId, what) => createSession(d, pool, proxyId, what),
        retire: d.retire,
        assertOpen: d.assertOpen,
        ...(store?.lease ? { lease: (s: ManagedSession) => store.lease!(s.poolKey, s.id, s.inUse) } : {}),
    };
}

/** Creates a session on `proxyId` (or a URL from the ProxyConfiguration), hands it out and runs its init. */
async function createSession(
    d: ManagerAcquireDeps,
    pool: Pool,
    proxyId: string | undefined,
    { request, rule, options }: AcquireRequest,
): Promise<ManagedSession | InitFailure | 'proxy-unusable'> {
    const session = await d.factory().create(pool, proxyId, request);
    d.assertOpen();
    if (session === 'proxy-unusable') return session;
    d.counters.inc(pool.key, 'session/created');
    d.saver?.sessionChanged(session);
    const result = await runInit(session, pool, session.identity.proxy?.id ?? DIRECT_PROXY_ID, request, rule, options, d.initDeps);
    if (result instanceof ManagedSession) pool.scheduler.settle(result, d.clock.now());
    return result;
}
