/**
 * Learned pace per (proxy, site): the request rate a proxy's IP sustains on a site, learned from 429s and Retry-After
 * by additive increase, multiplicative decrease. Until the first 429 nothing is paced. A 429 sets the proxy's rate to a
 * fraction of what it just sent (measured over its uses since its last pause) and waits out Retry-After; each success
 * then adds a little, up to just below the rate that was limited. Uses of any session on that proxy are spaced by
 * 1 / rate, so after the first 429 per IP repeats are rare.
 *
 * Proxies of the site without a 429 of their own are paced by the site's prior (IPs of one site usually share its
 * limit), set by the site's first 429 and from then on at once for all of them. The prior is cautious: what the site
 * allowed the limited proxy, spread over the whole measure window (a burst cut off by a 429 does not say how long the
 * site's window is), and each proxy counts the uses it already sent in the window, so proxies that burst beside the
 * first limited one wait instead of crossing the limit too. It rises when a proxy's clean uses show the site sustains
 * more (a shorter window, see `demonstrate`), and to the highest rate another 429 shows; one proxy's 429 never lowers
 * another's rate. A pace that has not been confirmed by a 429 for `forgetAfterMillis` is forgotten.
 *
 * Through a gateway (a session's proxy id is its own, its exit unknown and shared) a session paced by the prior speeds
 * up by its own clean uses (see `probeUp`): sessions paced at the prior can never show more than it, so without this
 * every session id would stay at the cautious prior and a gateway crawl would need many ids, crowding its exits.
 */
import { PairMap, type Pair, type Pairs } from './pair-map.js';

/** How pace is learned (`learner.pace` option). */
export interface PaceOptions {
    /** Factor the rate is multiplied by on a 429. @default 0.8 */
    decrease?: number;
    /** Requests per second added to the rate per success. @default 0.02 */
    increase?: number;
    /** Lowest rate learned, in requests per second. @default 0.05 */
    minRate?: number;
    /** Window over which the allowed rate is measured at a 429 (the shortest rate-limit window assumed), in milliseconds. @default 10000 */
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
    /** The version of the site's prior `nextAt` was derived at (a proxy without a rate of its own). */
    priorVersion?: number;
    /** Uses the site let through before this proxy's last 429. */
    allowed?: number;
    /** Uses sent since its last pause ended, none limited (what they show about the site's limit). */
    clean?: number;
    /** A gateway session paced by the site's prior: what its clean uses added to the prior (see GATEWAY_GROWTH). */
    bonus?: number;
}

/** Per site: the prior of proxies without a rate of their own. */
interface SitePrior {
    rate: number;
    /** Last 429 on the site (the prior is forgotten with the site's paces). */
    at: number;
    /** Bumped whenever the rate rises: paced proxies derive their next use again. */
    version: number;
    /** The highest rate a 429 measured on the site lately: a gateway session's increase stops below it. */
    ceiling: number;
    /** `decrease` x the lowest rate at which a gateway session's increase met a 429: the others' increase stops there. */
    probeCap?: number;
}

const MAX_SENDS = 64;
const SEP = '\u0000';
/** The prior rises only by this factor or more (each rise makes every proxy of the site be re-read). */
const PRIOR_STEP = 1.1;
/**
 * A gateway session's pace rises by this share of itself per clean use (at least by `increase`): its starting pace is
 * the site's cautious prior (what the site allowed, spread over the whole measure window; ~0.16/s where exits allow 3/s),
 * and a session id lives only ~25 uses, too few for an additive step of 0.02 to reach its exit's rate.
 */
const GATEWAY_GROWTH = 0.15;

/** One per manager; keys are (proxy id, site). */
export class PaceLearner {
    private readonly records: PairMap<Live>;
    private readonly priors = new Map<string, SitePrior>();
    private readonly options: ResolvedPaceOptions;

    /** `pairs`: the learner's interning (callers holding a pair read its record directly). */
    constructor(options: PaceOptions = {}, pairs?: Pairs) {
        this.options = { ...DEFAULT_PACE_OPTIONS, ...options };
        this.records = new PairMap<Live>(pairs);
    }

    private live(proxyId: string, site: string, pair?: Pair): Live {
        let r = pair ? this.records.at(pair) : this.records.get(proxyId, site);
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

    private livePrior(site: string, now: number): SitePrior | undefined {
        const prior = this.priors.get(site);
        return prior && now - prior.at < this.options.forgetAfterMillis ? prior : undefined;
    }

    private rateOf(r: Live, site: string, now: number): number | undefined {
        if (r.rate !== undefined && now - (r.lastLimitedAt ?? 0) >= this.options.forgetAfterMillis) delete r.rate;
        if (r.rate !== undefined) return r.rate;
        const prior = this.priors.size > 0 ? this.livePrior(site, now) : undefined;
        if (!prior) {
            r.priorVersion = undefined;
            return undefined;
        }
        const rate = r.bonus === undefined ? prior.rate : Math.max(prior.rate, Math.min(prior.rate + r.bonus, prior.probeCap ?? Number.POSITIVE_INFINITY));
        if (r.priorVersion !== prior.version) {
            // The prior starts to pace this proxy (or rose): its uses in the measure window count, as if they had been
            // paced at it. A proxy that burst beside the one first limited waits instead of crossing the limit too.
            r.priorVersion = prior.version;
            r.nextAt = this.replay(r.sends, now, rate);
        }
        return rate;
    }

    /** When the next use may start had the uses in the measure window been spaced by `rate`. */
    private replay(sends: readonly number[], now: number, rate: number): number {
        const gap = 1000 / rate;
        const from = now - this.options.measureMillis;
        let at = 0;
        for (const t of sends) if (t > from) at = Math.max(at, t) + gap;
        return at;
    }

    /** Earliest time a use of this proxy on this site may start (Retry-After and pace). */
    readyAt(proxyId: string, site: string, now: number, pair?: Pair): number {
        const r = this.live(proxyId, site, pair);
        const paced = this.rateOf(r, site, now) === undefined ? 0 : r.nextAt;
        return Math.max(r.pausedUntil ?? 0, paced);
    }

    /**
     * Call when a use of this proxy on this site starts. Returns whether {@link readyAt} may have moved (a pace is in
     * force, or one just lapsed): false while nothing was ever limited here.
     */
    onSend(proxyId: string, site: string, now: number, pair?: Pair): boolean {
        const r = this.live(proxyId, site, pair);
        const own = r.rate;
        const rate = this.rateOf(r, site, now);
        r.sends.push(now);
        // Drop the old ones in batches, not one shift per send.
        if (r.sends.length >= 2 * MAX_SENDS) r.sends.splice(0, r.sends.length - MAX_SENDS);
        if (r.clean !== undefined && now >= (r.pausedUntil ?? 0)) r.clean++;
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

    /**
     * A success: the rate grows by `increase` (`shared`: a gateway session, whose pace at the prior grows too, see
     * {@link probeUp}). Returns what may have moved in {@link readyAt}: `proxy` (a rate just lapsed), `site` (the site's
     * prior rose: every proxy of the site), or nothing.
     */
    onSuccess(proxyId: string, site: string, now: number, pair?: Pair, shared = false): 'proxy' | 'site' | undefined {
        const r = pair ? this.records.at(pair) : this.records.get(proxyId, site);
        if (r !== undefined && r.rate === undefined && shared) this.probeUp(r, site, now);
        if (r?.rate === undefined) return undefined;
        if (this.rateOf(r, site, now) === undefined || r.rate === undefined) return 'proxy';
        r.rate = Math.min(r.rate + this.options.increase, Math.max(r.rate, 0.95 * (r.ceiling ?? Number.POSITIVE_INFINITY)));
        return this.demonstrate(r, site, now) ? 'site' : undefined;
    }

    /**
     * A gateway session paced by the site's prior that served: its pace rises by GATEWAY_GROWTH of itself, at least by
     * `increase` (its exit, unknown, takes more; one that does not gets a 429 and the session is re-rolled, see the
     * learner), up to just below the highest rate a 429 measured. The prior itself cannot rise by what sessions paced at it show (see {@link demonstrate}), so
     * without this every session id stays at the cautious prior and a gateway crawl needs many ids (sharing exits).
     */
    private probeUp(r: Live, site: string, now: number): void {
        const prior = this.livePrior(site, now);
        if (!prior) return;
        const room = Math.min(0.95 * prior.ceiling, prior.probeCap ?? Number.POSITIVE_INFINITY) - prior.rate;
        if (room > 0) r.bonus = Math.min(room, (r.bonus ?? 0) + Math.max(this.options.increase, GATEWAY_GROWTH * (prior.rate + (r.bonus ?? 0))));
    }

    /** A gateway session whose increase met a 429: the others' increase stops at `decrease` x the rate it was paced at. */
    private capProbes(r: Live, site: string, now: number): void {
        const prior = this.livePrior(site, now);
        if (!prior) return;
        const rate = this.rateOf(r, site, now) ?? prior.rate;
        if (rate > prior.rate) prior.probeCap = Math.min(prior.probeCap ?? Number.POSITIVE_INFINITY, Math.max(prior.rate, this.options.decrease * rate));
        r.bonus = undefined;
    }

    /**
     * What a proxy's clean uses since its pause show: a window of N uses (fixed or sliding, any length W) lets at most
     * N x (T / W + 2) through in time T, so c uses in T without a 429 mean the site sustains at least (c - 2N) / T. When
     * that is well above the site's prior, the prior rises to `decrease` x it (the site's window is shorter than the
     * measure window assumed).
     */
    private demonstrate(r: Live, site: string, now: number): boolean {
        const prior = this.priors.get(site);
        if (!prior || r.clean === undefined || r.allowed === undefined) return false;
        const elapsed = now - (r.pausedUntil ?? now);
        const surplus = r.clean - 2 * r.allowed;
        if (elapsed < 1000 || surplus <= 0) return false;
        const shown = (this.options.decrease * surplus * 1000) / elapsed;
        if (shown < PRIOR_STEP * prior.rate) return false;
        prior.rate = shown;
        prior.version++;
        return true;
    }

    /**
     * A 429 (with Retry-After in millis, if any): the proxy's rate drops to `decrease` x what it just sent, uses wait.
     * The site's prior (for proxies without a rate of their own) is `decrease` x what the site allowed over the whole
     * measure window: a burst cut off by a 429 says the site allows that many per its window, which may be longer than
     * the burst; it only rises from there when a proxy's clean uses show more (see {@link demonstrate}). `shared`: the
     * proxy is a gateway session whose exit is unknown and may be shared; its own rate is read as cautiously. Returns
     * true when the prior was set or rose: every proxy of the site may be paced differently now.
     */
    onRateLimited(proxyId: string, site: string, now: number, retryAfterMillis = 0, shared = false): boolean {
        const r = this.live(proxyId, site);
        const { measureMillis, decrease, minRate } = this.options;
        if (r.rate === undefined && r.bonus !== undefined) this.capProbes(r, site, now);
        const last = r.sends.length > MAX_SENDS ? r.sends.slice(-MAX_SENDS) : r.sends;
        // The uses in the measure window since its last pause ended (the site counts afresh from there).
        const from = Math.max(now - measureMillis, (r.pausedUntil ?? 0) - 1);
        const recent = last.filter((t) => t > from);
        // The limited use itself is over the limit: the site allowed one use less.
        const allowed = Math.max(1, recent.length - 1);
        const measured = (allowed * 1000) / (recent.length > 1 ? Math.max(1000, now - recent[0]!) : measureMillis);
        // A 429 during a pause came from a use sent before the pause: it says nothing new about the rate.
        const duringPause = (r.pausedUntil ?? 0) > now - 1;
        let siteChanged = false;
        // One use in the window says nothing about a rate (the limit is another client's, or per window): Retry-After only.
        if (recent.length >= 2 && (!duringPause || r.rate === undefined)) {
            // Its own evidence only: each proxy's 429 measures what that proxy sent (the prior does not compound).
            // What the site allowed, spread over the whole window (the cautious reading, see the prior below).
            const spread = (allowed * 1000) / measureMillis;
            // Through a gateway the exit may carry other session ids' uses too: the session's burst is not its own limit.
            const own = shared ? spread : measured;
            const base = r.rate === undefined ? own : Math.min(r.rate, own);
            r.rate = Math.max(minRate, base * decrease);
            r.ceiling = measured;
            r.allowed = allowed;
            const floor = Math.max(minRate, decrease * spread);
            const prior = this.livePrior(site, now);
            if (!prior) {
                this.priors.set(site, { rate: floor, at: now, version: (this.priors.get(site)?.version ?? 0) + 1, ceiling: measured });
                siteChanged = true;
            } else {
                prior.at = now;
                prior.ceiling = Math.max(prior.ceiling, measured);
                // The highest lately: lower ones are IPs shared with other traffic (a gateway's exits, other clients).
                if (floor >= PRIOR_STEP * prior.rate) {
                    prior.rate = floor;
                    prior.version++;
                    siteChanged = true;
                }
            }
        }
        r.lastLimitedAt = now;
        if (retryAfterMillis > 0) r.pausedUntil = Math.max(r.pausedUntil ?? 0, now + retryAfterMillis);
        r.nextAt = Math.max(r.nextAt, r.pausedUntil ?? now);
        r.clean = 0;
        return siteChanged;
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
