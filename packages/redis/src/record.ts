/**
 * One shared record (a proxy's health on a site, a session, the leases on a session) and the deltas workers push to
 * it. A delta never carries a snapshot of a counter: it says how to change the record, so deltas from many workers
 * merge in any order (`add`, `recent`, `max`) or by time (`lww`, `row`), the same way in Lua (lua/apply.lua) and here.
 */

/** A record as read back from Redis (HGETALL), decoded. */
export interface SharedRecord {
    /** Totals (`add` deltas). */
    counts: Record<string, number>;
    /** Counts that fade with a half-life, as of {@link recentAt} (`recent` deltas). */
    recent: Record<string, number>;
    /** When {@link recent} was last brought up to date (epoch millis). */
    recentAt?: number;
    /** Deadlines and other values that only grow (`max` deltas): backoff until, ban until, paced until... */
    max: Record<string, number>;
    /** "In a row" counters: reset by one event, grown by others (`row` deltas). */
    rows: Record<string, number>;
    /** Values where the newest write wins (`lww` deltas): cookies, userData, learned pace... */
    lww: Record<string, { value: string; at: number }>;
    /** Values written once and never changed (`once` deltas): a session's identity, its retirement. */
    once: Record<string, string>;
    /** When the record was last changed (epoch millis of the writer's clock). */
    updatedAt?: number;
}

/** How one worker changes one record. Every part is optional; an empty delta changes nothing. */
export interface RecordDelta {
    /** Added to totals. */
    add?: Record<string, number>;
    /** Added to fading counts, as of {@link recentAt}. */
    recent?: Record<string, number>;
    /** When the {@link recent} increments happened (the last of them; earlier ones are decayed to it). */
    recentAt?: number;
    /** The record keeps the larger of its value and this one. */
    max?: Record<string, number>;
    /** `reset`: the counter becomes `add`; otherwise it grows by `add`. */
    row?: Record<string, { reset: boolean; add: number }>;
    /** Kept when `at` is not older than the record's own `at` for this field. */
    lww?: Record<string, { value: string; at: number }>;
    /** Written only if the field is not set yet. */
    once?: Record<string, string>;
    /** The record is deleted `retiredTtlMillis` after this delta (a retired session). */
    expire?: boolean;
}

export function emptyRecord(): SharedRecord {
    return { counts: {}, recent: {}, max: {}, rows: {}, lww: {}, once: {} };
}

/** 2^(-(to - from) / halfLife), 1 when `to` is not after `from`. */
export function decayFactor(from: number, to: number, halfLifeMillis: number): number {
    return to > from ? 2 ** (-(to - from) / halfLifeMillis) : 1;
}

/** The value of a fading count at `now`. */
export function recentAt(record: SharedRecord, name: string, now: number, halfLifeMillis: number): number {
    const v = record.recent[name] ?? 0;
    return record.recentAt === undefined ? v : v * decayFactor(record.recentAt, now, halfLifeMillis);
}

/** Decodes the flat field list of HGETALL (`n:ok`, `r:ok`, `r@`, `max:backoffUntil`, ...). */
export function decodeRecord(flat: readonly string[] | Record<string, string>): SharedRecord {
    const r = emptyRecord();
    const entries: [string, string][] = Array.isArray(flat)
        ? Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!] as [string, string])
        : Object.entries(flat);
    const lwwAt: Record<string, number> = {};
    const lwwValue: Record<string, string> = {};
    for (const [field, value] of entries) {
        if (field === '@') r.updatedAt = Number(value);
        else if (field === 'r@') r.recentAt = Number(value);
        else if (field.startsWith('n:')) r.counts[field.slice(2)] = Number(value);
        else if (field.startsWith('r:')) r.recent[field.slice(2)] = Number(value);
        else if (field.startsWith('max:')) r.max[field.slice(4)] = Number(value);
        else if (field.startsWith('row:')) r.rows[field.slice(4)] = Number(value);
        else if (field.startsWith('lww@')) lwwAt[field.slice(4)] = Number(value);
        else if (field.startsWith('lww:')) lwwValue[field.slice(4)] = value;
        else if (field.startsWith('o:')) r.once[field.slice(2)] = value;
    }
    for (const [name, value] of Object.entries(lwwValue)) r.lww[name] = { value, at: lwwAt[name] ?? 0 };
    return r;
}

/** `a` then `b`, as one delta: pushing the result equals pushing `a` and then `b`. */
export function combineDeltas(a: RecordDelta, b: RecordDelta, halfLifeMillis: number): RecordDelta {
    const out: RecordDelta = {};
    if (a.add || b.add) out.add = sumMaps(a.add, b.add, 1);
    if (a.recent || b.recent) {
        const at = Math.max(a.recentAt ?? -Infinity, b.recentAt ?? -Infinity);
        const fa = a.recentAt === undefined ? 1 : decayFactor(a.recentAt, at, halfLifeMillis);
        const fb = b.recentAt === undefined ? 1 : decayFactor(b.recentAt, at, halfLifeMillis);
        const recent: Record<string, number> = {};
        for (const [k, v] of Object.entries(a.recent ?? {})) recent[k] = (recent[k] ?? 0) + v * fa;
        for (const [k, v] of Object.entries(b.recent ?? {})) recent[k] = (recent[k] ?? 0) + v * fb;
        out.recent = recent;
        if (Number.isFinite(at)) out.recentAt = at;
    }
    if (a.max || b.max) {
        const max: Record<string, number> = { ...a.max };
        for (const [k, v] of Object.entries(b.max ?? {})) max[k] = Math.max(max[k] ?? -Infinity, v);
        out.max = max;
    }
    if (a.row || b.row) {
        const row: Record<string, { reset: boolean; add: number }> = { ...a.row };
        for (const [k, v] of Object.entries(b.row ?? {})) {
            const prev = row[k];
            row[k] = v.reset || !prev ? { ...v } : { reset: prev.reset, add: prev.add + v.add };
        }
        out.row = row;
    }
    if (a.lww || b.lww) {
        const lww: Record<string, { value: string; at: number }> = { ...a.lww };
        for (const [k, v] of Object.entries(b.lww ?? {})) if (!lww[k] || v.at >= lww[k].at) lww[k] = v;
        out.lww = lww;
    }
    if (a.once || b.once) out.once = { ...b.once, ...a.once };
    if (a.expire || b.expire) out.expire = true;
    return out;
}

function sumMaps(a: Record<string, number> | undefined, b: Record<string, number> | undefined, f: number): Record<string, number> {
    const out: Record<string, number> = { ...a };
    for (const [k, v] of Object.entries(b ?? {})) out[k] = (out[k] ?? 0) + v * f;
    return out;
}

/** What Redis does with a delta (lua/apply.lua), done on a local copy: the worker's view before the next sync. */
export function applyDelta(record: SharedRecord, delta: RecordDelta, now: number, halfLifeMillis: number): SharedRecord {
    const r: SharedRecord = {
        counts: { ...record.counts },
        recent: { ...record.recent },
        max: { ...record.max },
        rows: { ...record.rows },
        lww: { ...record.lww },
        once: { ...record.once },
        ...(record.recentAt !== undefined ? { recentAt: record.recentAt } : {}),
    };
    for (const [k, v] of Object.entries(delta.add ?? {})) r.counts[k] = (r.counts[k] ?? 0) + v;
    if (delta.recent) {
        const last = r.recentAt ?? now;
        const base = Math.max(last, now);
        const f = decayFactor(last, base, halfLifeMillis);
        if (f !== 1) for (const k of Object.keys(r.recent)) r.recent[k] = r.recent[k]! * f;
        const fi = decayFactor(delta.recentAt ?? base, base, halfLifeMillis);
        for (const [k, v] of Object.entries(delta.recent)) r.recent[k] = (r.recent[k] ?? 0) + v * fi;
        r.recentAt = base;
    }
    for (const [k, v] of Object.entries(delta.max ?? {})) if (r.max[k] === undefined || v > r.max[k]) r.max[k] = v;
    for (const [k, v] of Object.entries(delta.row ?? {})) r.rows[k] = v.reset ? v.add : (r.rows[k] ?? 0) + v.add;
    for (const [k, v] of Object.entries(delta.lww ?? {})) if (!r.lww[k] || v.at >= r.lww[k].at) r.lww[k] = { ...v };
    for (const [k, v] of Object.entries(delta.once ?? {})) if (r.once[k] === undefined) r.once[k] = v;
    r.updatedAt = now;
    return r;
}

/** True when the delta changes nothing. */
export function isEmptyDelta(d: RecordDelta): boolean {
    return !d.expire && [d.add, d.recent, d.max, d.row, d.lww, d.once].every((m) => m === undefined || Object.keys(m).length === 0);
}
