/**
 * Core's proxy health records (`HealthRecord`: what one worker knows) as shared records in Redis, and back. What a
 * worker pushes is the difference between two of its snapshots, never the snapshot: outcome counts as increments
 * (totals and fading "recent" counts), deadlines (backoff, pacing) as maxima, in-a-row counters as reset-or-grow, flags
 * (banned, probing) and any learned value a learner adds as newest-wins.
 */
import type { HealthRecord } from '@sessionpack/core';

import type { RecordDelta, SharedRecord } from './record.js';

/** Outcome totals: increments. */
const COUNTS = ['successes', 'blocked', 'proxyFailures', 'rateLimited', 'targetErrors'] as const;
/** Counters a success (or a ban) resets. */
const ROWS = ['failuresInRow', 'targetErrorsInRow', 'backoffs'] as const;
/** Deadlines in epoch millis: the latest wins. */
const DEADLINES = ['backoffUntil', 'pacedUntil'] as const;
const KNOWN = new Set<string>([...COUNTS, ...ROWS, ...DEADLINES]);

type Plain = Record<string, unknown>;

/** The delta that turns `prev` (what this worker last pushed, or nothing) into `next`. */
export function healthDelta(prev: HealthRecord | undefined, next: HealthRecord, now: number): RecordDelta {
    const p = (prev ?? {}) as unknown as Plain;
    const n = next as unknown as Plain;
    const delta: RecordDelta = {};
    for (const k of COUNTS) {
        const d = (next[k] ?? 0) - ((prev?.[k] as number | undefined) ?? 0);
        if (d > 0) {
            (delta.add ??= {})[k] = d;
            (delta.recent ??= {})[k] = d;
            delta.recentAt = now;
        }
    }
    for (const k of ROWS) {
        const before = (prev?.[k] as number | undefined) ?? 0;
        const after = next[k] ?? 0;
        if (after === before) continue;
        (delta.row ??= {})[k] = after > before ? { reset: false, add: after - before } : { reset: true, add: after };
    }
    for (const k of DEADLINES) {
        const v = next[k];
        if (typeof v === 'number' && v > ((prev?.[k] as number | undefined) ?? 0)) (delta.max ??= {})[k] = v;
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

/** A core `HealthRecord` from what everyone pushed. Past deadlines are left out (they no longer hold anything back). */
export function healthRecordOf(shared: SharedRecord, now: number): HealthRecord {
    const r: Plain = {};
    for (const k of COUNTS) r[k] = Math.round(shared.counts[k] ?? 0);
    for (const k of ROWS) r[k] = Math.max(0, Math.round(shared.rows[k] ?? 0));
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
    return r as unknown as HealthRecord;
}
