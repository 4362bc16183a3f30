/**
 * Replica: what one worker knows of the shared records, with no Redis I/O. Records as last pulled, this worker's changes
 * not pushed yet (a view applies them on top), what it pushed (to re-seed an emptied Redis with), the session index per
 * pool, and the changes pulled but not yet told to listeners. {@link RedisSharedState} moves batches between it and Redis.
 */
import type { Log } from '@crawlee/core';
import { redactText, type Clock } from '@sessionpack/core';

import type { InternTable, InternTables } from './interned.js';
import type { Keys, RecordRef } from './keys.js';
import type { LeaseBook, LeaseEntry } from './leases.js';
import { applyDelta, combineDeltas, decodeRecord, emptyRecord, isEmptyDelta, type RecordDelta, type SharedRecord } from './record.js';

/** A record another worker (or this one) changed, as pulled. */
export type SharedChange =
    | { kind: 'health'; proxyId: string; scope: string; record: SharedRecord }
    /** `record` is undefined when the session is gone from Redis (a retired one whose time ran out). */
    | { kind: 'session'; pool: string; id: string; record: SharedRecord | undefined }
    | { kind: 'lease'; pool: string; id: string; leases: ReadonlyMap<string, LeaseEntry> };

/** The local view of one worker; see the module comment. */
export class Replica {
    /** Highest change sequence number pulled so far. */
    cursor = 0;
    private readonly pulled = new Map<string, SharedRecord>();
    private pending = new Map<string, RecordDelta>();
    /** Everything this worker pushed, per record: what it re-seeds an emptied Redis with. */
    private readonly own = new Map<string, RecordDelta>();
    private readonly sessionIndex = new Map<string, Set<string>>();
    private readonly listeners = new Set<(change: SharedChange) => void>();
    private toEmit: SharedChange[] = [];

    constructor(
        private readonly keys: Keys,
        private readonly clock: Clock,
        private readonly halfLifeMillis: number,
        private readonly leases: LeaseBook,
        private readonly log: Log,
    ) {}

    /** Records changed here and not pushed yet. */
    get pendingCount(): number {
        return this.pending.size;
    }

    /** Calls `listener` for every record pulled. Returns a function that removes it. */
    onChange(listener: (change: SharedChange) => void): () => void {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }

    /** Every health record known here, by proxy id and scope. */
    *healthRecords(): Iterable<{ proxyId: string; scope: string; record: SharedRecord }> {
        for (const key of new Set([...this.pulled.keys(), ...this.pending.keys()])) {
            const ref = this.keys.parse(key);
            if (ref?.kind === 'health') yield { proxyId: ref.proxyId, scope: ref.scope, record: this.view(key)! };
        }
    }

    /** The pools that have sessions known here. */
    sessionPools(): string[] {
        return [...this.sessionIndex.keys()];
    }

    /** Ids of the sessions of `pool` known here (retired ones included until they expire). */
    sessionIds(pool: string): string[] {
        return [...(this.sessionIndex.get(pool) ?? [])];
    }

    /** Whether Redis (as last pulled) or this worker knows the session. */
    knows(pool: string, id: string): boolean {
        return this.sessionIndex.get(pool)?.has(id) ?? false;
    }

    /** A record as last pulled plus this worker's unpushed changes (undefined if unknown here). */
    view(key: string): SharedRecord | undefined {
        const base = this.pulled.get(key);
        const delta = this.pending.get(key);
        if (!delta) return base;
        return applyDelta(base ?? emptyRecord(), delta, this.clock.now(), this.halfLifeMillis);
    }

    /** Queues a change of a record (pushed on the next sync). */
    queue(key: string, delta: RecordDelta): void {
        if (isEmptyDelta(delta)) return;
        const prev = this.pending.get(key);
        this.pending.set(key, prev ? combineDeltas(prev, delta, this.halfLifeMillis) : delta);
    }

    indexSession(pool: string, id: string): void {
        let ids = this.sessionIndex.get(pool);
        if (!ids) this.sessionIndex.set(pool, (ids = new Set()));
        ids.add(id);
    }

    /** The unpushed changes, for one push; the view keeps them only as {@link requeue}d or {@link pushed}. */
    takeBatch(): Map<string, RecordDelta> {
        const batch = this.pending;
        this.pending = new Map();
        return batch;
    }

    /** A batch that could not be pushed goes back, under what changed since. */
    requeue(batch: Map<string, RecordDelta>): void {
        const later = this.pending;
        this.pending = batch;
        for (const [key, d] of later) this.queue(key, d);
    }

    /** A batch Redis took: kept as this worker's own, for a re-seed. */
    pushed(batch: Map<string, RecordDelta>): void {
        for (const [key, d] of batch) {
            const prev = this.own.get(key);
            this.own.set(key, prev ? combineDeltas(prev, d, this.halfLifeMillis) : d);
        }
    }

    /** Redis lost its data: everything this worker ever pushed is queued again, and the next pull starts over. */
    reseed(): void {
        const later = this.pending;
        this.pending = new Map();
        for (const [key, d] of this.own) this.queue(key, d);
        this.own.clear();
        for (const [key, d] of later) this.queue(key, d);
        this.cursor = 0;
    }

    /** Takes in the result of pull.lua; returns the number of records. */
    ingest(flat: unknown[]): number {
        let n = 0;
        for (let i = 0; i + 2 < flat.length; i += 3) {
            const key = flat[i] as string;
            const seq = Number(flat[i + 1]);
            const fields = (flat[i + 2] as string[]) ?? [];
            if (seq > this.cursor) this.cursor = seq;
            n++;
            const ref = this.keys.parse(key);
            if (!ref) continue;
            this.take(key, ref, fields);
        }
        return n;
    }

    private take(key: string, ref: RecordRef, fields: string[]): void {
        let change: SharedChange;
        if (ref.kind === 'lease') {
            change = { kind: 'lease', pool: ref.pool, id: ref.id, leases: this.leases.pulled(key, fields, this.clock.now()) };
        } else if (fields.length === 0) {
            this.pulled.delete(key);
            if (ref.kind === 'session') {
                this.sessionIndex.get(ref.pool)?.delete(ref.id);
                change = { kind: 'session', pool: ref.pool, id: ref.id, record: undefined };
            } else return;
        } else {
            this.pulled.set(key, decodeRecord(fields));
            const record = this.view(key)!;
            if (ref.kind === 'session') {
                this.indexSession(ref.pool, ref.id);
                change = { kind: 'session', pool: ref.pool, id: ref.id, record };
            } else change = { kind: 'health', proxyId: ref.proxyId, scope: ref.scope, record };
        }
        this.toEmit.push(change);
    }

    /** Tells the listeners what came in (call after the header sets and fingerprints it refers to arrived). */
    emit(): void {
        const changes = this.toEmit;
        this.toEmit = [];
        for (const change of changes) {
            for (const listener of this.listeners) {
                try {
                    listener(change);
                } catch (error) {
                    this.log.warning(`A change listener threw: ${redactText(String((error as Error)?.message ?? error))}`);
                }
            }
        }
    }

    /** The header sets and fingerprints that pulled sessions refer to and `interned` does not hold. */
    missingInterned(interned: InternTables): Map<InternTable, Set<string>> {
        const missing = new Map<InternTable, Set<string>>([['headersets', new Set()], ['fingerprints', new Set()]]);
        for (const [key, record] of this.pulled) {
            if (!key.startsWith(`${this.keys.prefix}:s:`)) continue;
            const hs = record.once.headerSet;
            const fp = record.once.fingerprint;
            if (hs && !interned.get('headersets', hs)) missing.get('headersets')!.add(hs);
            if (fp && !interned.get('fingerprints', fp)) missing.get('fingerprints')!.add(fp);
        }
        return missing;
    }
}
