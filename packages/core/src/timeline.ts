/**
 * CrawlTimeline: what the crawl report needs that counters do not keep, recorded as the crawl runs and bounded
 * whatever its length: uses per outcome over time per pool (fixed-count buckets that double their width when full),
 * the top failure reasons with one example URL each, and how sessions ended (count, uses, age per reason category).
 * The hot path (`use()` of an ok outcome) is a map lookup and an array increment.
 */
import { endingCategory, REPORT_OUTCOMES, type ReportEnding, type ReportOutcome, type ReportReason, type ReportSeries } from '@sessionpack/report';

import type { OutcomeType } from './types.js';

/** Options of {@link CrawlTimeline}. */
export interface TimelineOptions {
    /** Width of a time bucket at the start, in milliseconds (doubles whenever the buckets run out). @default 1000 */
    bucketMillis?: number;
    /** Buckets kept per pool and outcome. @default 120 */
    maxBuckets?: number;
    /** Distinct (outcome, reason) pairs kept per pool; later new ones are counted under `other reasons`. @default 50 */
    maxReasons?: number;
    /** Distinct ending categories kept per pool; later new ones are counted under `other`. @default 30 */
    maxEndings?: number;
}

interface Ending {
    count: number;
    uses: number;
    maxUses: number;
    age: number;
    maxAge: number;
}

/** One pool's records (see {@link CrawlTimeline.row}). */
export class PoolTimeline {
    readonly counts = Object.fromEntries(REPORT_OUTCOMES.map((o) => [o, [] as number[]])) as Record<ReportOutcome, number[]>;
    /** `counts.ok` again, on the row itself: nearly every use is ok, and with many pools the counts object is one cold read more. */
    ok = this.counts.ok;
    readonly reasons = new Map<string, ReportReason>();
    readonly endings = new Map<string, Ending>();
}

/** What the timeline needs of a session that ended. */
export interface EndedSession {
    readonly poolKey: string;
    readonly usageCount: number;
    readonly createdAt: Date;
}

/** A URL as the report shows it: no user name or password. */
function safeUrl(url: string): string {
    try {
        const u = new URL(url);
        if (!u.username && !u.password) return url;
        u.username = '';
        u.password = '';
        return u.href;
    } catch {
        return '(not a URL)';
    }
}

export class CrawlTimeline {
    private readonly pools = new Map<string, PoolTimeline>();
    private readonly maxBuckets: number;
    private readonly maxReasons: number;
    private readonly maxEndings: number;
    private bucketMillis: number;
    private startedAt: number | undefined;

    constructor(options: TimelineOptions = {}) {
        this.bucketMillis = options.bucketMillis ?? 1000;
        this.maxBuckets = options.maxBuckets ?? 120;
        this.maxReasons = options.maxReasons ?? 50;
        this.maxEndings = options.maxEndings ?? 30;
    }

    /** The records of pool `key` (created on first use), for a caller that keeps them at hand (see {@link useIn}). */
    row(key: string): PoolTimeline {
        let p = this.pools.get(key);
        if (!p) {
            p = new PoolTimeline();
            this.pools.set(key, p);
        }
        return p;
    }

    /** Records one use of a session of pool `key` that ended with `type` (`reason` already redacted) at `now`. */
    use(key: string, type: OutcomeType, now: number, reason: string, url?: string): void {
        this.useIn(this.row(key), type, now, reason, url);
    }

    /** {@link use} with the pool's records at hand (from {@link row}): no lookup in a cold table. */
    useIn(p: PoolTimeline, type: OutcomeType, now: number, reason: string, url?: string): void {
        this.startedAt ??= now;
        let i = Math.max(0, Math.floor((now - this.startedAt) / this.bucketMillis));
        while (i >= this.maxBuckets) {
            this.compact();
            i = Math.floor((now - this.startedAt) / this.bucketMillis);
        }
        const series = type === 'ok' ? p.ok : p.counts[type];
        while (series.length <= i) series.push(0);
        series[i]!++;
        if (type === 'ok') return;
        const k = `${type}\u0000${reason}`;
        let r = p.reasons.get(k);
        if (!r) {
            if (p.reasons.size >= this.maxReasons) {
                const other = `${type}\u0000other reasons`;
                r = p.reasons.get(other) ?? { outcome: type, reason: 'other reasons', count: 0 };
                p.reasons.set(other, r);
            } else {
                r = { outcome: type, reason, count: 0, ...(url ? { exampleUrl: safeUrl(url) } : {}) };
                p.reasons.set(k, r);
            }
        }
        r.count++;
    }

    /** Records that `session` was retired for `reason` at `now`. */
    ended(session: EndedSession, reason: string, now: number): void {
        const p = this.row(session.poolKey);
        let category = endingCategory(reason);
        if (!p.endings.has(category) && p.endings.size >= this.maxEndings) category = 'other';
        let e = p.endings.get(category);
        if (!e) {
            e = { count: 0, uses: 0, maxUses: 0, age: 0, maxAge: 0 };
            p.endings.set(category, e);
        }
        const age = Math.max(0, now - session.createdAt.getTime());
        e.count++;
        e.uses += session.usageCount;
        e.maxUses = Math.max(e.maxUses, session.usageCount);
        e.age += age;
        e.maxAge = Math.max(e.maxAge, age);
    }

    /** Halves the resolution: adjacent buckets merge, the width doubles. */
    private compact(): void {
        for (const p of this.pools.values()) {
            for (const o of REPORT_OUTCOMES) {
                const a = p.counts[o];
                const merged: number[] = [];
                for (let j = 0; j < a.length; j += 2) merged.push(a[j]! + (a[j + 1] ?? 0));
                p.counts[o] = merged;
            }
            p.ok = p.counts.ok;
        }
        this.bucketMillis *= 2;
    }

    /** Pool keys with anything recorded. */
    keys(): string[] {
        return [...this.pools.keys()];
    }

    /** The outcome series of pool `key` (copies), or undefined if nothing was recorded there. */
    series(key: string): ReportSeries | undefined {
        const p = this.pools.get(key);
        if (!p || this.startedAt === undefined) return undefined;
        const counts = Object.fromEntries(REPORT_OUTCOMES.map((o) => [o, [...p.counts[o]]])) as Record<ReportOutcome, number[]>;
        return { startedAt: this.startedAt, bucketMillis: this.bucketMillis, counts };
    }

    /** Failure reasons of pool `key`, most frequent first. */
    reasons(key: string): ReportReason[] {
        return [...(this.pools.get(key)?.reasons.values() ?? [])].map((r) => ({ ...r })).sort((a, b) => b.count - a.count);
    }

    /** How sessions of pool `key` ended, by reason category. */
    endings(key: string): ReportEnding[] {
        return [...(this.pools.get(key)?.endings ?? [])].map(([reason, e]) => ({
            reason,
            count: e.count,
            meanUses: e.uses / e.count,
            maxUses: e.maxUses,
            meanAgeMillis: e.age / e.count,
            maxAgeMillis: e.maxAge,
        }));
    }
}
