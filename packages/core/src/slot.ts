/**
 * A proxy's slot in one pool: the proxy's health handle for the pool's site (with its last answers cached until they
 * can change), the pool's ready sessions on that proxy (a heap in the pool's hand-out order) and how many live
 * sessions of the pool use the proxy. Sessions point at their slot, so no per-session lookup is ever needed.
 */
import type { HealthHandle, ProxyAvailability } from './health-model.js';

/** A slot's ready sessions in the pool's hand-out order (see `SessionHeap` and `ReadyDeque`). */
export interface ReadyQueue<S> {
    readonly size: number;
    top(): S | undefined;
    /** The first item's hand-out key (negated for newest-first) and ordinal, read without reading the item (size > 0). */
    topKey(): number;
    topOrdinal(): number;
    /** The item at heap position `index` (no particular order). */
    at(index: number): S;
    has(item: S): boolean;
    /** The first item by position that passes `test`. */
    find(test: (item: S) => boolean): S | undefined;
    push(item: S): void;
    remove(item: S): boolean;
    update(item: S): void;
}

/** A proxy a new session could use, with how many live sessions of this pool already use it. */
export interface ProxyCandidate {
    /** Proxy id (`direct` for no proxy). */
    id: string;
    /** Live sessions of this pool on this proxy. */
    load: number;
    /** @internal Order of the last time this proxy got a session in this pool. */
    lastPickedSeq: number;
}

export class ProxySlot<S> {
    /** Sessions of the pool on this proxy that may be handed out as far as the session goes (not cooling, below caps). */
    ready: ReadyQueue<S>;
    /** Live sessions of the pool on this proxy. */
    live = 0;
    /** Hand-out order of the last new session put on this proxy (round-robin of proxies). */
    lastPickedSeq = 0;
    /** Position in the pool's list of slots with ready sessions (-1: not in it). */
    listPos = -1;
    /** Position in the pool's heap of open slots (-1: not in it). */
    openPos = -1;
    /** Its rank in the open heap (the rounded score, for the scored policy). */
    rank = 0;
    /** Ready sessions counted in the pool's total of candidates. */
    counted = 0;
    /** Its score as last read by the pool's picks (valid while not {@link stale}). */
    seen = 0;
    /** Its score may have been drawn again (or never read) since {@link seen}: listed in `OpenSlots`' stale slots. */
    stale = false;
    private offer: ProxyCandidate | undefined;
    /** Cached answers of the handle, valid while `version` matches and the clock is before `validUntil`. */
    availability: ProxyAvailability = 'usable';
    usableAt: number | undefined = undefined;
    pacedUntil = 0;
    private version = -1;
    /**
     * Until when the cached answers hold by time; undefined: for good (until `version` moves). Not Infinity: a number
     * that is no small integer is an object of its own in a field (a cold read on every refresh).
     */
    private validUntil: number | undefined = undefined;

    constructor(
        readonly id: string,
        readonly health: HealthHandle,
        ready: ReadyQueue<S>,
    ) {
        this.ready = ready;
    }

    /** This proxy as a candidate for a new session (one object per slot, reused by every decision). */
    get candidate(): ProxyCandidate {
        this.offer ??= { id: this.id, load: 0, lastPickedSeq: 0 };
        return this.offer;
    }

    /** Re-reads the health handle when its answers may have changed. Returns true if they were re-read. */
    refresh(now: number): boolean {
        const h = this.health;
        if (this.version === h.version && (this.validUntil === undefined || now < this.validUntil)) return false;
        this.version = h.version;
        const a = h.availability(now);
        this.availability = a;
        // The caller's time, not another clock reading (a pool's rebuild refreshes every slot with ready sessions).
        this.usableAt = a === 'backoff' ? h.usableAt(now) : undefined;
        this.pacedUntil = h.pacedUntil(now);
        let until = Infinity;
        if (this.usableAt !== undefined && this.usableAt > now) until = this.usableAt;
        if (this.pacedUntil > now && this.pacedUntil < until) until = this.pacedUntil;
        this.validUntil = until === Infinity ? undefined : until;
        return true;
    }

    /** When the cached answers stop holding by time alone (end of a backoff or of a pace). */
    get changesAt(): number {
        return this.validUntil ?? Infinity;
    }

    /** Whether sessions on this proxy may be handed out now (call {@link refresh} first). */
    open(now: number): boolean {
        return this.availability === 'usable' && this.pacedUntil <= now;
    }

    /** When this proxy could be usable again, if it is not now (undefined: not by time alone). */
    wakeAt(now: number): number | undefined {
        if (this.availability === 'backoff') return this.usableAt;
        if (this.availability === 'usable' && this.pacedUntil > now) return this.pacedUntil;
        return undefined;
    }

    /** The proxy's score on the site (cheap: the handle holds the records it reads). */
    score(now?: number): number {
        return this.health.score(now);
    }
}
