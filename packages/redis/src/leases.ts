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
