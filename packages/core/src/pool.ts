/**
 * A pool: the live sessions of one key, its limits, and the acquirers waiting for it. The pool scans only its live
 * sessions (retired ones leave the map at once), so every decision is O(pool size).
 */
import type { Clock, TimerHandle } from './clock.js';
import type { InitFailedError } from './errors.js';
import type { ResolvedPoolOptions } from './options.js';
import { policyByName, type SessionPolicy } from './policies.js';
import { DIRECT_PROXY_ID, type ProxyAvailability } from './proxies.js';
import type { ManagedSession } from './session.js';
import type { PersistedRetired } from './store.js';
import { emptySessionCounts, type SessionCounts } from './stats.js';

/** How many retired sessions each pool remembers (and persists), so they stay retired and can be inspected. */
export const RETIRED_HISTORY = 50;

/**
 * What one decision pass knows about a proxy on this pool's site. Sessions point at their slot, so a pass over
 * 1000 sessions on 100 proxies asks the health tracker 100 times, with no map lookups per session.
 */
export interface ProxySlot {
    readonly id: string;
    /** The pass these values belong to. */
    stamp: number;
    availability: ProxyAvailability;
    usableAt: number | undefined;
    pacedUntil: number;
    /** The proxy's score on this site, for the pass `scoreStamp`. */
    score: number;
    scoreStamp: number;
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
    /** Set once `maxInitFailuresInRow` is reached: every later acquire fails with it. */
    initAbort: InitFailedError | undefined;
    /** Sessions being created (their proxy URL is being fetched): they count toward the size. */
    pending = 0;
    /** @internal Whether the pool's size already accounts for the rule of its requests (false for restored pools). */
    sizeFromRule = false;
    readonly policy: SessionPolicy;
    /** Live sessions per proxy id. */
    readonly proxyLoad = new Map<string, number>();
    /** Hand-out order of each proxy's last new session (round-robin of proxies). */
    readonly proxyLastPicked = new Map<string, number>();
    private seq = 0;
    private readonly slots = new Map<string, ProxySlot>();
    private readonly waiters = new Set<() => void>();

    constructor(
        readonly key: string,
        readonly options: ResolvedPoolOptions,
    ) {
        this.policy = policyByName(options.policy);
    }

    /** The next hand-out sequence number. */
    nextSeq(): number {
        return ++this.seq;
    }

    /** Live sessions plus those being created. */
    get occupancy(): number {
        return this.sessions.size + this.pending;
    }

    /** The slot of a proxy in this pool. */
    slot(proxyId: string): ProxySlot {
        let slot = this.slots.get(proxyId);
        if (!slot) {
            slot = { id: proxyId, stamp: -1, availability: 'usable', usableAt: undefined, pacedUntil: 0, score: 0, scoreStamp: -1 };
            this.slots.set(proxyId, slot);
        }
        return slot;
    }

    add(session: ManagedSession): void {
        this.sessions.set(session.id, session);
        const pid = session.identity.proxy?.id ?? DIRECT_PROXY_ID;
        session.proxySlot = this.slot(pid);
        this.proxyLoad.set(pid, (this.proxyLoad.get(pid) ?? 0) + 1);
        if (session.handOutSeq > this.seq) this.seq = session.handOutSeq;
    }

    /** Removes a session that was just retired. */
    remove(session: ManagedSession, reason: string): void {
        if (!this.sessions.delete(session.id)) return;
        const pid = session.identity.proxy?.id ?? DIRECT_PROXY_ID;
        const load = (this.proxyLoad.get(pid) ?? 1) - 1;
        if (load <= 0) this.proxyLoad.delete(pid);
        else this.proxyLoad.set(pid, load);
        this.retiredCount++;
        this.recentlyRetired.push({ id: session.id, proxyId: pid, reason });
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
