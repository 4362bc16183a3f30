/**
 * A pool: the live sessions of one key, its limits, its scheduler (the readiness index that picks sessions without
 * scanning) and the acquirers waiting for it.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { InitFailedError } from './errors.js';
import type { ProxyHealthModel } from './health-model.js';
import { resolvePoolOptions, type ResolvedPoolOptions, type SessionManagerOptions } from './options.js';
import { policyByName, type SessionPolicy } from './policies.js';
import { DIRECT_PROXY_ID } from './proxies.js';
import type { CompiledRule } from './rules.js';
import { Scheduler, type SchedulerHost } from './scheduler.js';
import type { ManagedSession } from './session.js';
import type { PersistedRetired } from './store.js';
import { emptySessionCounts, type Counters, type SessionCounts } from './stats.js';
import type { PoolTimeline } from './timeline.js';

/** How many retired sessions each pool remembers (and persists), so they stay retired and can be inspected. */
export const RETIRED_HISTORY = 50;

/** What a pool gets from its manager. */
export interface PoolDeps {
    health: ProxyHealthModel;
    /** Ids of the fixed proxies, or undefined with a dynamic ProxyConfiguration. */
    fixedProxies: readonly string[] | undefined;
    /** With tiered proxies: the tier gate of a pool's site (new sessions on the pool's tier only). */
    tiersOf?(site: string): NonNullable<SchedulerHost['tiers']>;
    random: () => number;
    retire(session: ManagedSession, reason: string): void;
}

export class Pool {
    /** Live (not retired) sessions by id, in creation order. */
    readonly sessions = new Map<string, ManagedSession>();
    /** The most recently retired sessions (bounded by {@link RETIRED_HISTORY}). */
    readonly recentlyRetired: PersistedRetired[] = [];
    /** Sessions retired since the pool was created (restored ones included). */
    retiredCount = 0;
    /** Failed inits in a row. */
    initFailuresInRow = 0;
    /** Whether a failed init was already explained at info level (once per pool). */
    initFailureExplained = false;
    /** Set once `maxInitFailuresInRow` is reached: every later acquire fails with it. */
    initAbort: InitFailedError | undefined;
    /** Set when the learner found the site's blocks site-wide for too long: every later acquire fails with it. */
    stopReason: string | undefined;
    /** Sessions being created (their proxy URL is being fetched): they count toward the size. */
    pending = 0;
    /** @internal Its counters in the manager's stats and its records in the crawl report, kept at hand by its reports. */
    counterRow: Counters | undefined = undefined;
    /** @internal See {@link counterRow}. */
    timelineRow: PoolTimeline | undefined = undefined;
    /** @internal Whether the pool's size already accounts for the rule of its requests (false for restored pools). */
    sizeFromRule = false;
    readonly policy: SessionPolicy;
    /** Which session to hand out, whether to create one, when to look again. */
    readonly scheduler: Scheduler;
    private readonly waiters = new Set<() => void>();

    constructor(
        readonly key: string,
        readonly options: ResolvedPoolOptions,
        deps: PoolDeps,
    ) {
        this.policy = policyByName(options.policy);
        const o = options;
        this.scheduler = new Scheduler({
            site: key,
            policy: this.policy,
            health: deps.health,
            fixedProxies: deps.fixedProxies,
            ...(deps.tiersOf ? { tiers: deps.tiersOf(key) } : {}),
            random: deps.random,
            limits: o,
            occupancy: () => this.occupancy,
            waiting: () => this.waiting,
            sessions: () => this.sessions.values(),
            retire: deps.retire,
        });
    }

    /** Live sessions plus those being created. */
    get occupancy(): number {
        return this.sessions.size + this.pending;
    }

    /** Adopts a session (new or restored); the scheduler indexes it. */
    add(session: ManagedSession): void {
        this.sessions.set(session.id, session);
        this.scheduler.adopt(session);
    }

    /** Removes a session that was just retired. */
    remove(session: ManagedSession, reason: string): void {
        if (!this.sessions.delete(session.id)) return;
        this.scheduler.release(session);
        this.retiredCount++;
        this.recentlyRetired.push({ id: session.id, proxyId: session.identity.proxy?.id ?? DIRECT_PROXY_ID, reason });
        if (this.recentlyRetired.length > RETIRED_HISTORY) this.recentlyRetired.shift();
    }

    /** Wakes every acquirer waiting on this pool (a use ended, a session retired, a proxy recovered). */
    notify(): void {
        if (this.waiters.size === 0) return;
        const waiters = [...this.waiters];
        this.waiters.clear();
        for (const w of waiters) w();
    }

    /** Number of acquirers waiting right now. */
    get waiting(): number {
        return this.waiters.size;
    }

    /**
     * Resolves on the next {@link notify}, or at `wakeAt` (epoch millis on `clock`), whichever comes first. No polling:
     * one timer at most, cleared when woken.
     */
    wait(clock: Clock, wakeAt: number): Promise<void> {
        return new Promise<void>((resolve) => {
            let timer: TimerHandle | undefined;
            const wake = () => {
                if (timer !== undefined) clock.clearTimeout(timer);
                this.waiters.delete(wake);
                resolve();
            };
            this.waiters.add(wake);
            if (Number.isFinite(wakeAt)) timer = clock.setTimeout(wake, Math.max(0, wakeAt - clock.now()));
        });
    }

    /** Counts for error messages (a full scan: only when an acquire gives up). */
    describe(now: number): string {
        let busy = 0;
        let initializing = 0;
        let cooling = 0;
        let backoff = 0;
        for (const s of this.sessions.values()) {
            if (s.initializing) initializing++;
            else if (s.proxySlot && (s.proxySlot.refresh(now), s.proxySlot.availability === 'backoff')) backoff++;
            else if (s.availableAt > now && s.inUse === 0) cooling++;
            else busy++;
        }
        const parts: string[] = [];
        if (busy) parts.push(`${busy} busy`);
        if (initializing) parts.push(`${initializing} initializing`);
        if (cooling) parts.push(`${cooling} cooling down`);
        if (backoff) parts.push(`${backoff} on proxies in backoff`);
        return parts.join(', ');
    }

    /** Live sessions by state, plus the retired count and open uses. */
    counts(): SessionCounts {
        const c = emptySessionCounts();
        for (const s of this.sessions.values()) {
            c[s.state]++;
            c.inUse += s.inUse;
        }
        c.retired = this.retiredCount;
        return c;
    }
}

/**
 * The pool of `key` in `pools`, created on its first request with the size of its rule (and the options of `key`). A
 * pool restored from the store learns its rule's size on its first request.
 */
export function poolFor(pools: Map<string, Pool>, key: string, rule: CompiledRule | undefined, options: SessionManagerOptions, deps: PoolDeps): Pool {
    let pool = pools.get(key);
    if (!pool) {
        pool = new Pool(key, resolvePoolOptions(options, key, rule?.rule.size), deps);
        pool.sizeFromRule = rule !== undefined;
        pools.set(key, pool);
    } else if (!pool.sizeFromRule && rule) {
        pool.sizeFromRule = true;
        if (rule.rule.size !== undefined && options.pools?.[key]?.size === undefined) pool.options.size = rule.rule.size;
    }
    return pool;
}
