/**
 * Core's proxy health records (the learner's `LearnedRecord`: what one worker knows of a proxy on one scope) as shared
 * records in Redis, and back. A record is flattened to plain fields first (`ok`, `bad`, `at`, `backoff.level`,
 * `backoff.until`, `pace.rate`...). What a worker pushes is the difference between two of its snapshots, never the
 * snapshot: counts of a flat record of another shape (`successes`...) as increments, deadlines (`backoffUntil`,
 * `pacedUntil`) as maxima, in-a-row counters as reset-or-grow, and every learned value (the learner's faded counts,
 * backoff level and deadline, pace) as newest-wins: the worker that learned last is the one that saw the proxy last.
 */
import type { LearnedRecord } from '@sessionpack/core';

import type { RecordDelta, SharedRecord } from './record.js';

/** Outcome totals: increments. */
const COUNTS = ['successes', 'blocked', 'proxyFailures', 'rateLimited', 'targetErrors'] as const;
/** Counters a success (or a ban) resets. */
const ROWS = ['failuresInRow', 'targetErrorsInRow', 'backoffs'] as const;
/** Deadlines in epoch millis: the latest wins. */
const DEADLINES = ['backoffUntil', 'pacedUntil'] as const;
const KNOWN = new Set<string>([...COUNTS, ...ROWS, ...DEADLINES]);

type Plain = Record<string, unknown>;
type Flat = Record<string, number | boolean | undefined>;

/** Nested parts of a learned record, flattened as `part.field`. */
const NESTED = ['backoff', 'pace'] as const;

/** A record as plain number/boolean fields (nested parts as `part.field`). */
export function flattenHealth(record: LearnedRecord | undefined): Flat {
    const out: Flat = {};
    if (!record) return out;
    for (const [k, v] of Object.entries(record as Plain)) {
        if ((NESTED as readonly string[]).includes(k) && v && typeof v === 'object') {
            for (const [f, x] of Object.entries(v as Plain)) if (typeof x === 'number' || typeof x === 'boolean') out[`${k}.${f}`] = x;
        } else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
    return out;
}

/** The inverse of {@link flattenHealth}. */
export function unflattenHealth(flat: Plain): LearnedRecord {
    const out: Plain = {};
    for (const [k, v] of Object.entries(flat)) {
        const dot = k.indexOf('.');
        if (dot > 0 && (NESTED as readonly string[]).includes(k.slice(0, dot))) ((out[k.slice(0, dot)] ??= {}) as Plain)[k.slice(dot + 1)] = v;
        else out[k] = v;
    }
    return out as LearnedRecord;
}

/** The delta that turns `prevRecord` (what this worker last pushed, or nothing) into `nextRecord`. */
export function healthDelta(prevRecord: LearnedRecord | undefined, nextRecord: LearnedRecord, now: number): RecordDelta {
    const prev = prevRecord ? flattenHealth(prevRecord) : undefined;
    const next = flattenHealth(nextRecord);
    const p = (prev ?? {}) as Plain;
    const n = next as Plain;
    const num = (r: Flat | undefined, k: string): number => (typeof r?.[k] === 'number' ? (r[k] as number) : 0);
    const delta: RecordDelta = {};
    for (const k of COUNTS) {
        const d = num(next, k) - num(prev, k);
        if (d > 0) {
            (delta.add ??= {})[k] = d;
            (delta.recent ??= {})[k] = d;
            delta.recentAt = now;
        }
    }
    for (const k of ROWS) {
        const before = num(prev, k);
        const after = num(next, k);
        if (after === before) continue;
        (delta.row ??= {})[k] = after > before ? { reset: false, add: after - before } : { reset: true, add: after };
    }
    for (const k of DEADLINES) {
        const v = next[k];
        if (typeof v === 'number' && v > num(prev, k)) (delta.max ??= {})[k] = v;
    }
    // Flags and whatever else a health model keeps (learned pace, caps...): newest wins.
    for (const [k, v] of Object.entries(n)) {
        if (KNOWN.has(k) || (typeof v !== 'number' && typeof v !== 'boolean')) continue;
        const before = p[k];
        if (v === before || (v === false && before === undefined)) continue;
        (delta.lww ??= {})[k] = { value: typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v), at: now };
    }
    for (const [k, before] of Object.entries(p)) {
        if (KNOWN.has(k) || k in n || (typeof before !== 'number' && typeof before !== 'boolean')) continue;
        (delta.lww ??= {})[k] = { value: typeof before === 'boolean' ? 'false' : '', at: now };
    }
    return delta;
}

/** A core `LearnedRecord` from what everyone pushed. Past deadlines are left out (they no longer hold anything back). */
export function healthRecordOf(shared: SharedRecord, now: number): LearnedRecord {
    const r: Plain = {};
    for (const k of COUNTS) if (shared.counts[k] !== undefined) r[k] = Math.round(shared.counts[k]);
    for (const k of ROWS) if (shared.rows[k] !== undefined) r[k] = Math.max(0, Math.round(shared.rows[k]));
    for (const k of DEADLINES) {
        const v = shared.max[k];
        if (v !== undefined && v > now) r[k] = v;
    }
    for (const [k, { value }] of Object.entries(shared.lww)) {
        if (KNOWN.has(k) || value === '') continue;
        if (value === 'true' || value === 'false') {
            if (value === 'true') r[k] = true;
        } else if (Number.isFinite(Number(value))) r[k] = Number(value);
    }
    return unflattenHealth(r);
}
