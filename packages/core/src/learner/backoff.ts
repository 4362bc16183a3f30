/**
 * Backoffs and bans that decay. Each time a proxy is blamed on a site it is kept away until a deadline that grows
 * (base x 2^level, with jitter); past `banAfterBackoffs` levels it is "banned", which only means the deadline is long
 * (hours, capped). When a deadline passes, one use is a probe: a success clears the record, a failure raises the
 * level. Deadlines are absolute (epoch millis), so a stored record means the same after a restart; nothing is forever.
 */
import type { Random } from './beta.js';

/** The schedule (`learner.backoff` option). */
export interface DecayingBackoffOptions {
    /** First backoff, in milliseconds. @default 5000 */
    baseMillis?: number;
    /** Cap of a backoff before the ban level, in milliseconds. @default 600000 (10 minutes) */
    maxMillis?: number;
    /** Backoffs in a row (without a success) after which the proxy counts as banned on the site (a failed probe of a proxy that never served it counts three). @default 5 */
    banAfterBackoffs?: number;
    /** First re-probe delay once banned, in milliseconds; it doubles per failed probe. @default 1800000 (30 minutes) */
    banBaseMillis?: number;
    /** Cap of the re-probe delay of a banned proxy, in milliseconds. @default 21600000 (6 hours) */
    banMaxMillis?: number;
    /** Random spread of every delay, as a fraction (0.2 = ±20%). @default 0.2 */
    jitter?: number;
}

export type ResolvedDecayingBackoff = Required<DecayingBackoffOptions>;

export const DEFAULT_DECAYING_BACKOFF: ResolvedDecayingBackoff = {
    baseMillis: 5_000,
    maxMillis: 600_000,
    banAfterBackoffs: 5,
    banBaseMillis: 1_800_000,
    banMaxMillis: 21_600_000,
    jitter: 0.2,
};

/** The backoff record of one proxy on one site. Plain data (persisted as is). */
export interface BackoffRecord {
    /** Backoffs in a row without a success. */
    level: number;
    /** Epoch millis until which the proxy must not be handed out on the site. */
    until?: number;
}

/** What a record says at a moment. `probe`: the deadline passed, the next use is a probe. */
export type BackoffState = 'clear' | 'backoff' | 'banned' | 'probe';

export function backoffState(record: BackoffRecord | undefined, now: number, options: ResolvedDecayingBackoff): BackoffState {
    if (!record || record.level === 0) return 'clear';
    if ((record.until ?? 0) > now) return record.level >= options.banAfterBackoffs ? 'banned' : 'backoff';
    return 'probe';
}

/** The delay of the backoff at `level` (1 = the first), before jitter. */
export function backoffDelay(level: number, options: ResolvedDecayingBackoff): number {
    if (level >= options.banAfterBackoffs) {
        return Math.min(options.banMaxMillis, options.banBaseMillis * 2 ** Math.min(40, level - options.banAfterBackoffs));
    }
    return Math.min(options.maxMillis, options.baseMillis * 2 ** Math.min(40, level - 1));
}

/**
 * Levels a failed probe climbs when the proxy has never served the site (or, for a proxy failure, anything). Such a
 * proxy is most likely on the site's standing ban list, not burnt for a while: its re-probes come base x 8^n apart
 * instead of base x 2^n (5 s, 40 s) and it counts as banned at its third block instead of its sixth (re-probed after
 * 2 h, then on the ban schedule up to its cap). With one level per failed probe, a 30 s crawl paid three blocks per
 * such proxy (at ~0, ~10 and ~20 s); two levels still left the e2e's blocks above the old build's (BENCHMARKS.md).
 */
export const NEVER_SERVED_STEP = 3;

/**
 * The record after the proxy was blamed at `now`: one level up (a failed probe of a proxy that `neverServed`:
 * {@link NEVER_SERVED_STEP} levels), a new deadline. A first block is one level either way: every proxy has never
 * served at its first use.
 */
export function escalate(record: BackoffRecord | undefined, now: number, random: Random, options: ResolvedDecayingBackoff, neverServed = false): BackoffRecord {
    const before = record?.level ?? 0;
    const level = before + (neverServed && before > 0 ? NEVER_SERVED_STEP : 1);
    const raw = backoffDelay(level, options);
    const spread = 1 + options.jitter * (2 * random() - 1);
    const cap = level >= options.banAfterBackoffs ? options.banMaxMillis : options.maxMillis;
    return { level, until: now + Math.max(1, Math.min(cap, Math.round(raw * spread))) };
}

/** The record after a success (of a probe or of a use that started before a backoff ended: see {@link settle}). */
export function clear(): BackoffRecord {
    return { level: 0 };
}

/**
 * A success at `now`: clears the record unless a backoff is running (a use that started before it does not lift it).
 */
export function settle(record: BackoffRecord | undefined, now: number): BackoffRecord | undefined {
    if (!record) return undefined;
    return (record.until ?? 0) > now ? record : clear();
}

/**
 * Restored records of one pool's proxies: when every one of them is in backoff or banned at `now`, nothing could be
 * used, so each gets one probe now (levels are kept: a failed probe backs off further). Returns the records to use
 * and whether that happened.
 */
export function reopenIfAllBlocked(
    records: ReadonlyMap<string, BackoffRecord>,
    proxyIds: readonly string[],
    now: number,
    options: ResolvedDecayingBackoff,
): { records: Map<string, BackoffRecord>; reopened: number } {
    const out = new Map(records);
    if (proxyIds.length === 0) return { records: out, reopened: 0 };
    for (const id of proxyIds) {
        const state = backoffState(records.get(id), now, options);
        if (state === 'clear' || state === 'probe') return { records: out, reopened: 0 };
    }
    for (const id of proxyIds) out.set(id, { level: records.get(id)!.level, until: now });
    return { records: out, reopened: proxyIds.length };
}
