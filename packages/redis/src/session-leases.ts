/**
 * Leases by session (pool and session id): this worker's {@link LeaseBook} under the sessions' lease keys, and the one
 * round trip that asks Redis for slots. While Redis is unreachable the local view decides, and a claim made then is
 * registered by the next sync.
 */
import type { Clock } from '@sessionpack/core';

import type { ScriptedRedis } from './connection.js';
import type { Keys } from './keys.js';
import type { LeaseBook } from './leases.js';

/** How the lease round trip reaches Redis. */
export interface LeaseLink {
    /** The client to ask, or undefined (not connected yet, or closed). */
    client(): ScriptedRedis | undefined;
    /** Whether the last contact with Redis failed (then the local view decides). */
    isDown(): boolean;
    /** Reports a failed round trip. */
    markDown(error: unknown): void;
}

/** The lease operations of a `RedisSharedState`, by pool and session id. */
export class SessionLeases {
    constructor(
        private readonly book: LeaseBook,
        private readonly keys: Keys,
        private readonly clock: Clock,
        private readonly options: { workerId: string; leaseTtlMillis: number },
        private readonly link: LeaseLink,
    ) {}

    /** Slots of `pool`/`id` that live leases of other workers hold, as of the last pull. */
    othersSlots(pool: string, id: string): number {
        return this.book.othersSlots(this.keys.lease(pool, id), this.clock.now());
    }

    /** The sessions this worker holds leases on. */
    heldLeases(): { pool: string; id: string }[] {
        return [...this.book.held.values()].map(({ pool, id }) => ({ pool, id }));
    }

    /** Slots this worker holds on a session (0: none). */
    heldSlots(pool: string, id: string): number {
        return this.book.heldSlots(this.keys.lease(pool, id));
    }

    /** See `RedisSharedState.lease`. */
    async lease(pool: string, id: string, want: number, cap: number): Promise<number> {
        const key = this.keys.lease(pool, id);
        const client = this.link.client();
        if (!client) return 0;
        if (!this.link.isDown()) {
            try {
                const now = this.clock.now();
                const [granted, taken] = (await client.sessionpackLease(4, '', this.keys.seq, this.keys.changes, key,
                    this.options.workerId, want, cap, 1, now, this.options.leaseTtlMillis)) as [number, number];
                this.book.noted(key, granted, taken, now);
                if (granted > 0) this.book.hold(key, { pool, id, slots: granted, cap, unregistered: false });
                return granted;
            } catch (error) {
                this.link.markDown(error);
            }
        }
        const granted = Math.min(want, cap - this.othersSlots(pool, id));
        if (granted <= 0) return 0;
        this.book.hold(key, { pool, id, slots: granted, cap, unregistered: true });
        return granted;
    }

    /** Claims a session this worker just created (nobody else can know it yet): no round trip, registered on the next sync. */
    claim(pool: string, id: string, slots: number, cap: number): void {
        this.book.hold(this.keys.lease(pool, id), { pool, id, slots, cap, unregistered: true });
    }

    /** Marks a held session busy (a use is open) or idle; idle leases are given back after `leaseIdleMillis`. */
    setBusy(pool: string, id: string, busy: boolean): void {
        this.book.setBusy(this.keys.lease(pool, id), busy, this.clock.now());
    }

    /** Gives a lease back (on the next sync). */
    release(pool: string, id: string): void {
        this.book.release(this.keys.lease(pool, id));
    }
}
