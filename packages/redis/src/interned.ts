/**
 * Header sets and fingerprints, interned: stored once in Redis under a content address (`hs_…`, `fp_…`) that sessions
 * refer to, so a few dozen header sets serve thousands of sessions. Text is scrubbed of URL credentials first.
 */
import { createHash } from 'node:crypto';

import { redactText } from '@sessionpack/core';

export type InternTable = 'headersets' | 'fingerprints';

/** JSON with object keys sorted (content addresses do not depend on key order). */
function stableJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
    if (value && typeof value === 'object') {
        const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
    }
    return JSON.stringify(value) ?? 'null';
}

/** The interned objects this worker knows, and those it has not written to Redis yet. */
export class InternTables {
    private readonly tables = new Map<InternTable, Map<string, Readonly<Record<string, unknown>>>>();
    private pending = new Map<InternTable, Set<string>>();

    /** The content address of `value` (kept here, and queued for Redis when new). */
    intern(table: InternTable, value: Readonly<Record<string, unknown>>): string {
        const id = `${table === 'headersets' ? 'hs' : 'fp'}_${createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 16)}`;
        const known = this.tableOf(table);
        if (!known.has(id)) {
            known.set(id, Object.freeze(JSON.parse(redactText(JSON.stringify(value))) as Record<string, unknown>));
            this.pendingOf(table).add(id);
        }
        return id;
    }

    get(table: InternTable, id: string): Readonly<Record<string, unknown>> | undefined {
        return this.tables.get(table)?.get(id);
    }

    /** One that came from Redis. */
    set(table: InternTable, id: string, value: Readonly<Record<string, unknown>>): void {
        this.tableOf(table).set(id, value);
    }

    /** What to write to Redis now (non-empty tables only); {@link requeue} what could not be written. */
    takePending(): [InternTable, Set<string>][] {
        const out = [...this.pending].filter(([, ids]) => ids.size > 0);
        this.pending = new Map();
        return out;
    }

    requeue(table: InternTable, ids: Iterable<string>): void {
        for (const id of ids) this.pendingOf(table).add(id);
    }

    /** Everything known goes to Redis again (it lost its data). */
    requeueAll(): void {
        for (const [table, known] of this.tables) this.requeue(table, known.keys());
    }

    private tableOf(table: InternTable): Map<string, Readonly<Record<string, unknown>>> {
        let t = this.tables.get(table);
        if (!t) this.tables.set(table, (t = new Map()));
        return t;
    }

    private pendingOf(table: InternTable): Set<string> {
        let t = this.pending.get(table);
        if (!t) this.pending.set(table, (t = new Set()));
        return t;
    }
}
