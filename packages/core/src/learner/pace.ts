/**
 * Learned pace per (proxy, site): the request rate a proxy's IP sustains on a site, learned from 429s and Retry-After
 * by additive increase, multiplicative decrease. Until the first 429 nothing is paced. A 429 sets the rate to a
 * fraction of what was just sent (measured over the recent sends) and waits out Retry-After; each success then adds
 * a little. Uses of any session on that proxy are spaced by 1 / rate, so after the first 429 per IP repeats are rare.
 * The rate learned last on a site is the prior of that site's other proxies (IPs of one site usually share its limit),
 * so the first 429 on a site paces them all. A pace that has not been confirmed by a 429 for `forgetAfterMillis` is
 * forgotten.
 */
import { PairMap } from './pair-map.js';

/** How pace is learned (`learner.pace` option). */
export interface PaceOptions {
    /** Factor the rate is multiplied by on a 429. @default 0.8 */
    decrease?: number;
    /** Requests per second added to the rate per success. @default 0.02 */
    increase?: number;
    /** Lowest rate learned, in requests per second. @default 0.05 */
    minRate?: number;
    /** Window over which the sent rate is measured at a 429, in milliseconds. @default 10000 */
    measureMillis?: number;
    /** A learned rate without a 429 for this long is forgotten, in milliseconds. @default 600000 */
    forgetAfterMillis?: number;
}

export type ResolvedPaceOptions = Required<PaceOptions>;

export const DEFAULT_PACE_OPTIONS: ResolvedPaceOptions = { decrease: 0.8, increase: 0.02, minRate: 0.05, measureMillis: 10_000, forgetAfterMillis: 600_000 };

/** Persisted pace of one (proxy, site). */
export interface PaceRecord {
    /** Learned requests per second, once a 429 was seen. */
    rate?: number;
    /** No use before this (Retry-After), epoch millis. */
    pausedUntil?: number;
    /** Last 429, epoch millis. */
    lastLimitedAt?: number;
    /** The rate that was sent when the last 429 came: growth stops just below it. */
    ceiling?: number;
}

interface Live extends PaceRecord {
    /** Start times of the recent uses, oldest first: the last {@link MAX_SENDS} count (older ones are dropped in batches). */
    sends: number[];
    /** Earliest start of the next use by the pace (epoch millis). */
    nextAt: number;
}

const MAX_SENDS = 64;
const SEP = '\u0000';

/** One per manager; keys are (proxy id, site). */
export class PaceLearner {
    private readonly records = new PairMap<Live>();
    /** Per site: the rate learned last there, the prior of proxies that have none of their own. */
    private readonly priors = new Map<string, { rate: number; at: number }>();
    private readonly options: ResolvedPaceOptions;

    constructor(options: PaceOptions = {}) {
        this.options = { ...DEFAULT_PACE_OPTIONS, ...options };
    }

    private live(proxyId: string, site: string): Live {
        let r = this.records.get(proxyId, site);
        if (!r) {
            r = { sends: [], nextAt: 0 };
            this.records.set(proxyId, site, r);
        }
        return r;
    }

    /**
     * The learned rate in requests per second (the proxy's own, else the site's prior), or undefined while nothing was
     * limited on this site.
     */
    rate(proxyId: string, site: string, now: number): number | undefined {
        return this.rateOf(this.live(proxyId, site), site, now);
    }

    private rateOf(r: Live, site: string, now: number): number | undefined {
        if (r.rate !== undefined && now - (r.lastLimitedAt ?? 0) >= this.options.forgetAfterMillis) delete r.rate;
        if (r.rate !== undefined) return r.rate;
        const prior = this.priors.get(site);
        if (prior && now - prior.at < this.options.forgetAfterMillis) return prior.rate;
        return undefined;
    }

    /** Earliest time a use of this proxy on this site may start (Retry-After and pace). */
    readyAt(proxyId: string, site: string, now: number): number {
        const r = this.live(proxyId, site);
        const paced = this.rateOf(r, site, now) === undefined ? 0 : r.nextAt;
        return Math.max(r.pausedUntil ?? 0, paced);
    }

    /**
     * Call when a use of this proxy on this site starts. Returns whether {@link readyAt} may have moved (a pace is in
     * force, or one just lapsed): false while nothing was ever limited here.
     */
    onSend(proxyId: string, site: string, now: number): boolean {
        const r = this.live(proxyId, site);
        r.sends.push(now);
        // Drop the old ones in batches, not one shift per send.
        if (r.sends.length >= 2 * MAX_SENDS) r.sends.splice(0, r.sends.length - MAX_SENDS);
        const own = r.rate;
        const rate = this.rateOf(r, site, now);
        if (rate !== undefined) r.nextAt = Math.max(now, r.nextAt) + 1000 / rate;
        return rate !== undefined || own !== r.rate || r.nextAt > now;
    }

    /** Uses of this proxy on this site that started after `since` (epoch millis), counted from the newest. */
    sendsSince(proxyId: string, site: string, since: number): number {
        const sends = this.records.get(proxyId, site)?.sends;
        if (!sends) return 0;
        let n = 0;
        for (let i = sends.length - 1; i >= 0 && sends[i]! > since; i--) n++;
        return n;
    }

    /** A success: the rate grows by `increase`. Returns whether {@link readyAt} may have moved (a rate just lapsed). */
    onSuccess(proxyId: string, site: string, now: number): boolean {
        const r = this.records.get(proxyId, site);
        if (r?.rate === undefined) return false;
        if (this.rateOf(r, site, now) === undefined || r.rate === undefined) return true;
        r.rate = Math.min(r.rate + this.options.increase, Math.max(r.rate, 0.95 * (r.ceiling ?? Number.POSITIVE_INFINITY)));
        return false;
    }

    /** A 429 (with Retry-After in millis, if any): the rate drops to `decrease` x what was just sent, uses wait. */
    onRateLimited(proxyId: string, site: string, now: number, retryAfterMillis = 0): void {
        const r = this.live(proxyId, site);
        const { measureMillis, decrease, minRate } = this.options;
        const last = r.sends.length > MAX_SENDS ? r.sends.slice(-MAX_SENDS) : r.sends;
        const recent = last.filter((t) => t > now - measureMillis);
        const span = recent.length > 1 ? Math.max(1000, now - recent[0]!) : measureMillis;
        // The limited use itself is over the limit: the rate the site allowed is one use less.
        const measured = (Math.max(1, recent.length - 1) * 1000) / span;
        // A 429 during a pause came from a use sent before the pause: it says nothing new about the rate.
        const duringPause = (r.pausedUntil ?? 0) > now - 1;
        // One use in the window says nothing about a rate (the limit is another client's, or per window): Retry-After only.
        if (recent.length >= 2 && (!duringPause || r.rate === undefined)) {
            const own = r.rate ?? this.rate(proxyId, site, now);
            const base = own === undefined ? measured : Math.min(own, measured);
            r.rate = Math.max(minRate, base * decrease);
            r.ceiling = measured;
            this.priors.set(site, { rate: r.rate, at: now });
        }
        r.lastLimitedAt = now;
        if (retryAfterMillis > 0) r.pausedUntil = Math.max(r.pausedUntil ?? 0, now + retryAfterMillis);
        r.nextAt = Math.max(r.nextAt, r.pausedUntil ?? now);
    }

    /** Plain-data snapshot of what was learned (rates and Retry-After deadlines). */
    toJSON(): Record<string, PaceRecord> {
        const out: Record<string, PaceRecord> = {};
        for (const [proxyId, site, r] of this.records.entries()) {
            if (r.rate === undefined && !r.pausedUntil) continue;
            out[`${proxyId}${SEP}${site}`] = {
                ...(r.rate !== undefined ? { rate: r.rate } : {}),
                ...(r.pausedUntil ? { pausedUntil: r.pausedUntil } : {}),
                ...(r.lastLimitedAt ? { lastLimitedAt: r.lastLimitedAt } : {}),
                ...(r.ceiling !== undefined ? { ceiling: r.ceiling } : {}),
            };
        }
        return out;
    }

    /** What is stored of one (proxy, site), as in {@link toJSON}, or undefined. */
    recordOf(proxyId: string, site: string): PaceRecord | undefined {
        const r = this.records.get(proxyId, site);
        if (!r || (r.rate === undefined && !r.pausedUntil)) return undefined;
        return {
            ...(r.rate !== undefined ? { rate: r.rate } : {}),
            ...(r.pausedUntil ? { pausedUntil: r.pausedUntil } : {}),
            ...(r.lastLimitedAt ? { lastLimitedAt: r.lastLimitedAt } : {}),
            ...(r.ceiling !== undefined ? { ceiling: r.ceiling } : {}),
        };
    }

    /** Replaces what is stored of one (proxy, site) with a merged record (its recent sends are kept). */
    replace(proxyId: string, site: string, record: PaceRecord | undefined): void {
        const live = this.records.get(proxyId, site);
        if (!record) {
            if (live) this.records.set(proxyId, site, { sends: live.sends, nextAt: live.nextAt });
            return;
        }
        this.records.set(proxyId, site, { ...record, sends: live?.sends ?? [], nextAt: live?.nextAt ?? 0 });
    }

    restore(data: Record<string, PaceRecord>): void {
        for (const [key, r] of Object.entries(data)) {
            const at = key.indexOf(SEP);
            if (at >= 0) this.records.set(key.slice(0, at), key.slice(at + 1), { ...r, sends: [], nextAt: 0 });
        }
    }
}
