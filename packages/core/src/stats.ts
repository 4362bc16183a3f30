/**
 * Stats: counters per pool (names as in DESIGN.md), session counts by state, and the one-line summary the manager
 * logs periodically. Counters never contain URLs, so nothing here can leak proxy credentials.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { TierStats } from './tier-gate.js';
import type { SessionStateName } from './types.js';

/** Counter names, per pool. */
export const COUNTER_NAMES = [
    'init/passed',
    'init/failed',
    'use/ok',
    'use/blocked',
    'use/rate-limited',
    'use/proxy-failure',
    'use/check-failed',
    'use/target-error',
    'use/handler-error',
    'session/created',
    'session/retired',
    'proxy/backoff',
    'pool/paused',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

export type Counters = Record<CounterName, number>;

/** Live sessions by state (retired = retired during this run and still counted), plus open uses. */
export type SessionCounts = Record<SessionStateName, number> & { inUse: number };

export interface PoolStats {
    /** Ceiling of the pool's size. */
    size: number;
    /** The cap the learner found (sessions are retired after this many uses), when it found one. */
    learnedCap?: number;
    /** With tiered proxies: the tier new sessions take (0 = cheapest) and the uses per tier in this run. */
    tiers?: TierStats;
    counters: Counters;
    sessions: SessionCounts;
}

/** What `manager.stats()` returns. */
export interface ManagerStats {
    /** Per pool key. */
    pools: Record<string, PoolStats>;
    /** Sums over all pools. */
    totals: { counters: Counters; sessions: SessionCounts };
    proxies: {
        /** Configured proxies (`dynamic` when a ProxyConfiguration hands out one URL per session). */
        configured: number | 'dynamic';
        /** Proxies with a health record. */
        tracked: number;
        /** Proxies in backoff right now (globally or on some site). */
        backoff: number;
        /** (proxy, site) pairs banned. */
        bannedOnSites: number;
    };
}

export function emptyCounters(): Counters {
    return Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Counters;
}

export function emptySessionCounts(): SessionCounts {
    return { new: 0, initializing: 0, ready: 0, cooling: 0, retired: 0, inUse: 0 };
}

/** Counters per pool key. */
export class StatsCounters {
    private readonly byPool = new Map<string, Counters>();

    inc(pool: string, name: CounterName, by = 1): void {
        this.row(pool)[name] += by;
    }

    /** The live counters of `pool` (created at zero on first use), for a caller that keeps them at hand. */
    row(pool: string): Counters {
        let c = this.byPool.get(pool);
        if (!c) {
            c = emptyCounters();
            this.byPool.set(pool, c);
        }
        return c;
    }

    get(pool: string): Counters {
        return { ...(this.byPool.get(pool) ?? emptyCounters()) };
    }

    pools(): string[] {
        return [...this.byPool.keys()];
    }
}

/** Adds `b` into `a`. */
export function addCounters(a: Counters, b: Counters): void {
    for (const n of COUNTER_NAMES) a[n] += b[n];
}

export function addSessionCounts(a: SessionCounts, b: SessionCounts): void {
    for (const k of Object.keys(a) as (keyof SessionCounts)[]) a[k] += b[k];
}

/** One log line, e.g. `2 pools, 14 live (ready 10, cooling 2, in use 2), 3 retired | ok 120, blocked 3 ... | proxies: 1 in backoff`. */
export function summaryLine(stats: ManagerStats): string {
    const s = stats.totals.sessions;
    const c = stats.totals.counters;
    const live = s.new + s.initializing + s.ready + s.cooling;
    return (
        `${Object.keys(stats.pools).length} pools, ${live} live sessions (ready ${s.ready}, cooling ${s.cooling}, ` +
        `initializing ${s.initializing}, in use ${s.inUse}), ${s.retired} retired | uses: ok ${c['use/ok']}, ` +
        `blocked ${c['use/blocked']}, check-failed ${c['use/check-failed']}, rate-limited ${c['use/rate-limited']}, ` +
        `proxy-failure ${c['use/proxy-failure']}, target-error ${c['use/target-error']}, handler-error ${c['use/handler-error']} | ` +
        `init: passed ${c['init/passed']}, failed ${c['init/failed']} | proxies: ${stats.proxies.backoff} in backoff, ` +
        `${stats.proxies.bannedOnSites} banned on a site, ${stats.proxies.configured} configured`
    );
}

/** Assembles `manager.stats()` from the pools, the counters and the proxy health counts. */
export function buildStats(
    pools: ReadonlyMap<string, { readonly options: { size: number }; counts(): SessionCounts }>,
    counters: StatsCounters,
    health: { tracked: number; backoff: number; bannedOnSites: number },
    proxies: {
        configured: number | 'dynamic';
        sizeOf(key: string): number;
        learnedCap?(key: string): number | undefined;
        tiers?(key: string): PoolStats['tiers'];
    },
): ManagerStats {
    const out: ManagerStats['pools'] = {};
    const totals = { counters: emptyCounters(), sessions: emptySessionCounts() };
    const keys = new Set([...pools.keys(), ...counters.pools()]);
    for (const key of keys) {
        const pool = pools.get(key);
        const c = counters.get(key);
        const sessions = pool ? pool.counts() : emptySessionCounts();
        const cap = proxies.learnedCap?.(key);
        const tiers = proxies.tiers?.(key);
        out[key] = { size: pool?.options.size ?? proxies.sizeOf(key), ...(cap !== undefined ? { learnedCap: cap } : {}), ...(tiers ? { tiers } : {}), counters: c, sessions };
        addCounters(totals.counters, c);
        addSessionCounts(totals.sessions, sessions);
    }
    return {
        pools: out,
        totals,
        proxies: { configured: proxies.configured, tracked: health.tracked, backoff: health.backoff, bannedOnSites: health.bannedOnSites },
    };
}

/** The periodic one-line summary in the log (`statsIntervalSecs`): one timer, re-armed after each line. */
export class StatsTicker {
    private timer: TimerHandle | undefined;
    private stopped = false;

    constructor(
        private readonly clock: Clock,
        private readonly intervalMillis: number,
        /** The line to log now, or undefined for none (no pool yet). */
        private readonly line: () => string | undefined,
        private readonly log: (line: string) => void,
    ) {}

    start(): void {
        if (this.intervalMillis <= 0) return;
        const tick = () => {
            if (this.stopped) return;
            const line = this.line();
            if (line !== undefined) this.log(line);
            this.timer = this.clock.setTimeout(tick, this.intervalMillis);
        };
        this.timer = this.clock.setTimeout(tick, this.intervalMillis);
    }

    stop(): void {
        this.stopped = true;
        if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    }
}
