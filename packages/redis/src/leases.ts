/**
 * This worker's leases, and what it knows of everyone else's. A lease grants a worker some of a session's concurrent
 * uses (its `maxConcurrentUses`); a session is never handed out beyond that cap across workers. Leases are sticky (a
 * worker keeps one while it keeps using the session, so the hot path needs no round trip), renewed on every sync, and
 * expire `leaseTtlMillis` after their last renewal, so a dead worker's sessions come back to the others.
 */

/** One lease on a session as stored in Redis (field: worker id, value: `slots:expiresAt`). */
export interface LeaseEntry {
    slots: number;
    expiresAt: number;
}

/** A lease this worker holds (or claims for a session it just created). */
export interface HeldLease {
    pool: string;
    id: string;
    slots: number;
    cap: number;
    /** Created here and not yet registered in Redis (nobody else knows the session yet). */
    unregistered: boolean;
    /** Since when no use of the session is open here (undefined while in use). */
    idleSince?: number;
}

/** Decodes a lease hash (HGETALL). */
export function decodeLeases(flat: readonly string[]): Map<string, LeaseEntry> {
    const out = new Map<string, LeaseEntry>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
        const m = /^(\d+):(\d+)$/.exec(flat[i + 1]!);
        if (m) out.set(flat[i]!, { slots: Number(m[1]), expiresAt: Number(m[2]) });
    }
    return out;
}

/** Slots of live leases held by workers other than `self`. */
export function othersSlots(entries: ReadonlyMap<string, LeaseEntry> | undefined, self: string, now: number): number {
    let n = 0;
    if (entries) for (const [worker, e] of entries) if (worker !== self && e.expiresAt > now) n += e.slots;
    return n;
}

/** This worker's leases (by lease key) and its view of everyone's, with what the next sync must send. */
export class LeaseBook {
    /** Leases this worker holds or claims. */
    readonly held = new Map<string, HeldLease>();
    /** Everyone's leases as last seen (pulled, or answered by a lease script). */
    private readonly seen = new Map<string, Map<string, LeaseEntry>>();
    private releases = new Set<string>();

    constructor(
        private readonly self: string,
        private readonly ttlMillis: number,
    ) {}

    othersSlots(key: string, now: number): number {
        return othersSlots(this.seen.get(key), this.self, now);
    }

    heldSlots(key: string): number {
        return this.held.get(key)?.slots ?? 0;
    }

    hold(key: string, lease: HeldLease): void {
        this.held.set(key, lease);
    }

    setBusy(key: string, busy: boolean, now: number): void {
        const h = this.held.get(key);
        if (!h) return;
        if (busy) delete h.idleSince;
        else h.idleSince ??= now;
    }

    /** Gives a lease back on the next sync. */
    release(key: string): void {
        if (this.held.delete(key)) this.releases.add(key);
    }

    /** Gives back every lease idle for `idleMillis`, and returns what the next sync must send. */
    takeWork(now: number, idleMillis: number, renewDue: boolean) {
        for (const [key, h] of this.held) if (h.idleSince !== undefined && now - h.idleSince >= idleMillis) this.release(key);
        const releases = this.releases;
        this.releases = new Set();
        const claims = [...this.held].filter(([, h]) => h.unregistered);
        const renewals = renewDue ? [...this.held].filter(([, h]) => !h.unregistered) : [];
        return { releases, claims, renewals };
    }

    /** Releases that could not be sent go out with the next sync. */
    requeueReleases(keys: Iterable<string>): void {
        for (const k of keys) this.releases.add(k);
    }

    /** What a lease script answered: others hold `taken`; this worker now holds `granted`. */
    noted(key: string, granted: number, taken: number, now: number): void {
        const entries = new Map([...(this.seen.get(key) ?? [])].filter(([w]) => w !== this.self));
        if (granted > 0) entries.set(this.self, { slots: granted, expiresAt: now + this.ttlMillis });
        if (taken === 0) for (const w of [...entries.keys()]) if (w !== this.self) entries.delete(w);
        this.seen.set(key, entries);
    }

    /** The answer to a claim of `h` sent with a sync; false when the claim was lost (another worker got there first). */
    claimed(key: string, h: HeldLease, granted: number, taken: number, now: number): boolean {
        this.noted(key, granted, taken, now);
        if (granted > 0) {
            h.unregistered = false;
            h.slots = granted;
            return true;
        }
        if (this.held.get(key) === h) this.held.delete(key);
        return false;
    }

    /** A renewal found the lease gone and the session taken. */
    lost(key: string, h: HeldLease): void {
        if (this.held.get(key) === h) this.held.delete(key);
    }

    /** A pulled lease record (empty: no lease left). Returns everyone's leases on it. */
    pulled(key: string, fields: string[], now: number): ReadonlyMap<string, LeaseEntry> {
        const leases = decodeLeases(fields);
        const mine = this.held.get(key);
        // Our own lease as we know it (a renewal may be newer than what was pulled).
        if (mine && !mine.unregistered && !leases.has(this.self)) leases.set(this.self, { slots: mine.slots, expiresAt: now + this.ttlMillis });
        if (fields.length === 0) this.seen.delete(key);
        else this.seen.set(key, leases);
        return leases;
    }

    /** Redis lost its data: every lease held is claimed again. */
    reclaimAll(): void {
        for (const h of this.held.values()) h.unregistered = true;
    }
}
