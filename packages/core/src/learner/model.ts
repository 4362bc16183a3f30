/**
 * The learner as the scheduler's proxy-health model ({@link ProxyHealthModel}): availability with decaying backoffs
 * and probes, the learned pace as `pacedUntil`, a Thompson draw as the score (drawn again whenever the proxy's record
 * changes), blame and the site guard behind `record()`. Stored per proxy id (never a URL): faded counts, backoff
 * deadlines and learned pace per site.
 */
import type { Clock } from '../clock.js';
import type {
    HealthChange,
    HealthHandle,
    LearnedRecord,
    OutcomeEffect,
    PersistedHealth,
    ProxyAvailability,
    ProxyHealthModel,
    UseInfo,
} from '../health-model.js';
import type { BackoffRecord } from './backoff.js';
import type { Random } from './beta.js';
import { Learner, type LearnerOptions, type LearnedOutcome, type PersistedLearnerState, type UseContext } from './learner.js';
import type { PaceRecord } from './pace.js';
import { DRAW_OWNED, PAIR_DRAW, PAIR_HAS, PAIR_STRIDE, type Pair } from './pair-map.js';

const GLOBAL = '*';

/** Outcomes of one proxy on one site in this run (the crawl report's health table). */
export interface OutcomeTally {
    successes: number;
    blocked: number;
    proxyFailures: number;
    rateLimited: number;
    targetErrors: number;
    backoffs: number;
}

const TALLY_FIELD: Partial<Record<OutcomeEffect, keyof OutcomeTally>> = {
    success: 'successes',
    blocked: 'blocked',
    'proxy-failure': 'proxyFailures',
    'rate-limited': 'rateLimited',
    'target-error': 'targetErrors',
};
const SEP = '\u0000';

/** Per proxy: how often its record changed (a new Thompson draw) and how often what the scheduler reads of it did. */
interface ProxyVersions {
    /** Any record, probe, pace or hand-out. */
    record: number;
    /** Only what may change availability, backoff deadline, pace or stalled: the handles' `version`. */
    availability: number;
}

/**
 * A pool's handle on one (proxy, site). It holds the records a use of it reads and writes (the proxy's versions, its
 * changes through this site, its interned pair for the learner's per-pair records, its tally), so uses through the
 * handle look nothing up: with many pools every lookup lands in a cold table.
 */
class Handle implements HealthHandle {
    private scoreVersion = -1;
    /** The last draw, when the pair's numbers hold another handle's (see `drawAt`). */
    private drawn = 0;
    /** Where in the pairs' numbers this handle keeps its last draw (-1: in `drawn`): by the pair's counts it reads to draw. */
    private readonly drawAt: number;
    /** The learner's (proxy, site) pair. */
    readonly pair: Pair;
    /** This run's outcomes of the pair (created on the first counted one). */
    tally: OutcomeTally | undefined;

    constructor(
        private readonly model: LearnedHealth,
        readonly proxyId: string,
        readonly site: string,
        readonly versions: ProxyVersions,
    ) {
        const pairs = model.learner.pairs;
        this.pair = pairs.of(proxyId, site);
        const b = PAIR_STRIDE * this.pair.index;
        if (pairs.num[b + PAIR_HAS]! & DRAW_OWNED) this.drawAt = -1;
        else {
            pairs.num[b + PAIR_HAS] = pairs.num[b + PAIR_HAS]! | DRAW_OWNED;
            this.drawAt = b + PAIR_DRAW;
        }
    }
    onHandOut(now: number): void {
        this.model.onHandOut(this.proxyId, this.site, now, this);
    }
    record(effect: OutcomeEffect, rateLimitMillis: number, use: UseInfo, now: number): HealthChange {
        return this.model.record(this.proxyId, this.site, effect, rateLimitMillis, use, now, this);
    }
    get version(): number {
        return this.versions.availability;
    }
    availability(now: number): ProxyAvailability {
        return this.model.availability(this.proxyId, this.site, now);
    }
    usableAt(now?: number): number | undefined {
        return this.model.usableAt(this.proxyId, this.site, now);
    }
    pacedUntil(now = this.model.now()): number {
        return this.model.learner.readyAt(this.proxyId, this.site, now, this.pair);
    }
    /**
     * A Thompson draw, drawn again only when the proxy's record on this site or its availability changed (a stable rank
     * between changes): a pool's draw of a proxy follows the proxy's record everywhere (the prior) as of the pool's
     * last use of it, not every use by other pools.
     */
    score(now?: number): number {
        // Both only grow: their sum changes whenever either does.
        const v = this.pair.record + this.versions.availability;
        const pairs = this.model.learner.pairs;
        if (this.scoreVersion !== v) {
            this.scoreVersion = v;
            const drawn = this.model.learner.sample(this.proxyId, this.site, now ?? this.model.now(), this.pair);
            if (this.drawAt >= 0) pairs.num[this.drawAt] = drawn;
            else this.drawn = drawn;
            return drawn;
        }
        return this.drawAt >= 0 ? pairs.num[this.drawAt]! : this.drawn;
    }
    expected(now?: number): number {
        return this.model.learner.health.mean(this.proxyId, this.site, now ?? this.model.now(), this.pair);
    }
    paceGapMillis(now: number): number {
        const rate = this.model.learner.pace.rate(this.proxyId, this.site, now);
        return rate ? 1000 / rate : 0;
    }
    trials(): number {
        return this.model.learner.health.trials(this.proxyId, this.site, this.model.now(), this.pair);
    }
    stalled(now: number): boolean {
        const a = this.availability(now);
        return a === 'banned' || (a === 'backoff' && this.model.learner.backoffLevel(this.proxyId, this.site) >= 2);
    }
}

const EFFECT_TO_OUTCOME: Record<OutcomeEffect, LearnedOutcome['kind']> = {
    success: 'ok',
    blocked: 'blocked',
    'proxy-failure': 'proxy-failure',
    'rate-limited': 'rate-limited',
    'target-error': 'target-error',
    neutral: 'neutral',
};

/** The change of an outcome that changes nothing the caller acts on (shared, never written). */
const NO_CHANGE: HealthChange = Object.freeze({});

/** The outcomes that carry nothing but their kind (shared, never written). */
const SIMPLE_OUTCOMES = Object.freeze({
    ok: Object.freeze({ kind: 'ok' }),
    'proxy-failure': Object.freeze({ kind: 'proxy-failure' }),
    'target-error': Object.freeze({ kind: 'target-error' }),
    neutral: Object.freeze({ kind: 'neutral' }),
    blocked: Object.freeze({ kind: 'blocked' }),
    'rate-limited': Object.freeze({ kind: 'rate-limited' }),
}) as Readonly<Record<LearnedOutcome['kind'], LearnedOutcome>>;

export class LearnedHealth implements ProxyHealthModel {
    readonly learner: Learner;
    private readonly versions = new Map<string, ProxyVersions>();
    private changes = 0;
    /** Outcomes per (proxy, site) in this run, for the crawl report (not persisted: the report is of one run). */
    private readonly tallies = new Map<string, Map<string, OutcomeTally>>();

    constructor(
        options: LearnerOptions,
        private readonly clock: Clock,
        random: Random,
        /** Ids of the fixed proxies (for reopening a restored state in which every one is blocked). */
        private readonly fixedIds: readonly string[] = [],
        tierCount = 0,
    ) {
        this.learner = new Learner(options, random, tierCount);
    }

    now(): number {
        return this.clock.now();
    }

    /** Changes whenever anything about the proxy may have changed (any record, probe, pace, hand-out). */
    versionOf(proxyId: string): number {
        return this.versions.get(proxyId)?.record ?? 0;
    }

    private versionsOf(proxyId: string): ProxyVersions {
        let v = this.versions.get(proxyId);
        if (!v) this.versions.set(proxyId, (v = { record: 0, availability: 0 }));
        return v;
    }

    /**
     * The proxy's record changed (through `site`, when given); `availability`: what the scheduler reads of it may have
     * changed too.
     */
    private bump(proxyId: string, availability = true, site?: string, via?: Handle): void {
        const v = via ? via.versions : this.versionsOf(proxyId);
        v.record++;
        // The (proxy, site) version is kept on the learner's pair (one object fewer per use).
        if (via) via.pair.record++;
        else if (site !== undefined) this.learner.pairs.of(proxyId, site).record++;
        if (availability) {
            v.availability++;
            this.changes++;
        }
    }

    /** Changes whenever the availability version of any proxy changes (a pool re-reads its slots then). */
    get epoch(): number {
        return this.changes;
    }

    handle(proxyId: string, site: string): HealthHandle {
        return new Handle(this, proxyId, site, this.versionsOf(proxyId));
    }

    availability(proxyId: string, site: string, now = this.clock.now()): ProxyAvailability {
        const a = this.learner.availability(proxyId, site, now);
        return a === 'probe' ? 'usable' : a;
    }

    usableAt(proxyId: string, site: string, now = this.clock.now()): number | undefined {
        if (this.learner.availability(proxyId, site, now) === 'banned') return undefined;
        return this.learner.backoffUntil(proxyId, site);
    }

    /** Until when the pool of `site` is paused because its blocks were site-wide (0: not paused). */
    pausedUntil(site: string): number {
        return this.learner.pausedUntil(site);
    }

    /** `via`: the handle of (proxyId, site) the call came through (its records are read directly). */
    onHandOut(proxyId: string, site: string, now = this.clock.now(), via?: Handle): void {
        const ctx = this.sendContext;
        ctx.site = site;
        ctx.proxyId = proxyId;
        ctx.pair = via?.pair;
        this.bump(proxyId, this.learner.onSend(ctx, now), site, via);
    }

    /** What `onSend` reads of a hand-out (one object, reused: a hand-out allocates nothing for it). */
    private readonly sendContext: UseContext = { site: '', proxyId: '', sessionId: '', goodUses: 0, pair: undefined };
    /** What `onOutcome` reads of a use (reused likewise). */
    private readonly useContext: UseContext = { site: '', proxyId: '', sessionId: '', goodUses: 0, duringInit: false, dynamicProxy: false, pair: undefined };

    /** `via`: the handle of (proxyId, site) the call came through (its records are read directly). */
    record(proxyId: string, site: string, effect: OutcomeEffect, rateLimitMillis = 0, use: UseInfo = {}, now = this.clock.now(), via?: Handle): HealthChange {
        // One context object, reused (the learner reads it during the call and keeps nothing of it).
        const ctx = this.useContext;
        ctx.site = site;
        ctx.proxyId = proxyId;
        ctx.pair = via?.pair;
        ctx.sessionId = use.sessionId ?? '';
        ctx.goodUses = use.goodUses ?? 0;
        ctx.duringInit = use.duringInit ?? false;
        ctx.dynamicProxy = use.dynamicProxy ?? false;
        ctx.tier = use.tier;
        ctx.tierProbe = use.tier !== undefined && (use.tierProbe ?? false);
        const kind = EFFECT_TO_OUTCOME[effect];
        const outcome: LearnedOutcome =
            kind === 'rate-limited' ? { kind, retryAfterMillis: rateLimitMillis } : kind === 'blocked' ? { kind, checkFailed: use.checkFailed ?? false } : SIMPLE_OUTCOMES[kind];
        const e = this.learner.onOutcome(ctx, outcome, now);
        this.bump(proxyId, e.availabilityChanged, site, via);
        // Rare (the site's pace prior was set, or rose by 10% or more): every proxy's pace may have changed, pools re-read them.
        if (e.siteChanged) for (const id of this.versions.keys()) if (id !== proxyId) this.bump(id);
        // A failed probe put off the probes of other proxies on the site: pools re-read them.
        if (e.deferred) for (const id of e.deferred) this.bump(id, true, site);
        this.count(proxyId, site, effect, Boolean(e.backoff), via);
        // Nothing to act on (an ordinary success): the shared empty change, no object per outcome.
        if (!e.globalProbeEnded && !e.backoff && !e.blame && !e.retireSession && e.pausePoolUntil === undefined && !e.stop && !e.message) return NO_CHANGE;
        const change: HealthChange = {};
        if (e.globalProbeEnded) change.probeEnded = true;
        if (e.backoff && !e.backoff.banned) change.backoff = { scope: e.backoff.scope, untilMillis: e.backoff.until };
        if (e.backoff?.banned) change.banned = true;
        if (e.blame) change.blame = e.blame;
        if (e.retireSession) change.retireSession = true;
        if (e.pausePoolUntil !== undefined) change.pausePoolUntil = e.pausePoolUntil;
        if (e.stop) change.stop = e.stop;
        if (e.message) change.message = e.message;
        return change;
    }

    private count(proxyId: string, site: string, effect: OutcomeEffect, backoff: boolean, via: Handle | undefined): void {
        const field = TALLY_FIELD[effect];
        if (!field && !backoff) return;
        const t = via ? (via.tally ??= this.tallyOf(proxyId, site)) : this.tallyOf(proxyId, site);
        if (field) t[field]++;
        if (backoff) t.backoffs++;
    }

    private tallyOf(proxyId: string, site: string): OutcomeTally {
        let bySite = this.tallies.get(proxyId);
        if (!bySite) this.tallies.set(proxyId, (bySite = new Map()));
        let t = bySite.get(site);
        if (!t) bySite.set(site, (t = { successes: 0, blocked: 0, proxyFailures: 0, rateLimited: 0, targetErrors: 0, backoffs: 0 }));
        return t;
    }

    /** Outcomes per (proxy, site) in this run: proxy id -> site -> tally. */
    outcomeTallies(): ReadonlyMap<string, ReadonlyMap<string, Readonly<OutcomeTally>>> {
        return this.tallies;
    }

    summarize(ids: Iterable<string>, site: string, now = this.clock.now()): { total: number; backoff: number; banned: number; nextRetryAt?: number } {
        let total = 0;
        let backoff = 0;
        let banned = 0;
        let nextRetryAt: number | undefined;
        for (const id of ids) {
            total++;
            const a = this.availability(id, site, now);
            if (a === 'banned') banned++;
            else if (a === 'backoff') {
                backoff++;
                const at = this.learner.backoffUntil(id, site);
                if (nextRetryAt === undefined || at < nextRetryAt) nextRetryAt = at;
            }
        }
        return { total, backoff, banned, nextRetryAt };
    }

    counts(): { tracked: number; backoff: number; bannedOnSites: number } {
        return this.learner.summary(this.clock.now());
    }

    toJSON(): PersistedHealth {
        const state = this.learner.toJSON();
        const out: PersistedHealth = {};
        const entry = (id: string) => (out[id] ??= { global: {}, sites: {} });
        const at = (id: string, site: string): LearnedRecord => {
            const e = entry(id);
            if (site === GLOBAL) return e.global;
            return (e.sites[site] ??= {});
        };
        for (const [id, h] of Object.entries(state.health)) {
            Object.assign(entry(id).global, h.global);
            for (const [site, c] of Object.entries(h.sites)) Object.assign(at(id, site), c);
        }
        for (const [k, r] of Object.entries(state.backoffs)) {
            const [id, site] = k.split(SEP) as [string, string];
            at(id, site).backoff = { ...r };
        }
        for (const [k, r] of Object.entries(state.pace)) {
            const [id, site] = k.split(SEP) as [string, string];
            at(id, site).pace = { ...r };
        }
        return out;
    }

    /** What is stored of one proxy on a pool key (`'*'`: everywhere), as in {@link toJSON}; undefined if nothing. */
    recordOf(proxyId: string, scope: string): LearnedRecord | undefined {
        const counts = this.learner.health.countsOf(proxyId, scope);
        const backoff = this.learner.backoffRecordOf(proxyId, scope);
        const pace = this.learner.pace.recordOf(proxyId, scope);
        if (!counts && !backoff && !pace) return undefined;
        return { ...counts, ...(backoff ? { backoff } : {}), ...(pace ? { pace } : {}) };
    }

    /** Replaces what is stored of one proxy on a pool key (`'*'`: everywhere) with a merged record (a shared store's). */
    merge(proxyId: string, scope: string, record: LearnedRecord): void {
        const counts = typeof record.ok === 'number' && typeof record.bad === 'number' && typeof record.at === 'number' ? { ok: record.ok, bad: record.bad, at: record.at } : undefined;
        this.learner.health.replaceCounts(proxyId, scope, counts);
        this.learner.replaceBackoff(proxyId, scope, record.backoff && typeof record.backoff.level === 'number' ? ({ ...record.backoff } as BackoffRecord) : undefined);
        this.learner.pace.replace(proxyId, scope, record.pace ? ({ ...record.pace } as PaceRecord) : undefined);
        this.bump(proxyId);
    }

    /**
     * Restores a snapshot of {@link toJSON}. Records of an older format (lifetime counts, bans without a deadline)
     * carry nothing this model reads and are dropped. Returns the sites on which every fixed proxy was blocked in the
     * stored state: they start with one probe per proxy.
     */
    restore(data: PersistedHealth): { site: string; reopened: number }[] {
        const state: PersistedLearnerState = { v: 2, health: {}, backoffs: {}, pace: {}, caps: {} };
        const take = (id: string, site: string, r: LearnedRecord) => {
            if (typeof r.ok === 'number' && typeof r.bad === 'number' && typeof r.at === 'number') {
                const h = (state.health[id] ??= { global: { ok: 0, bad: 0, at: 0 }, sites: {} });
                if (site === GLOBAL) h.global = { ok: r.ok, bad: r.bad, at: r.at };
                else h.sites[site] = { ok: r.ok, bad: r.bad, at: r.at };
            }
            if (r.backoff && typeof r.backoff.level === 'number') state.backoffs[`${id}${SEP}${site}`] = { ...r.backoff } as BackoffRecord;
            if (r.pace) state.pace[`${id}${SEP}${site}`] = { ...r.pace } as PaceRecord;
        };
        for (const [id, e] of Object.entries(data)) {
            take(id, GLOBAL, e.global ?? {});
            for (const [site, r] of Object.entries(e.sites ?? {})) take(id, site, r);
            this.bump(id);
        }
        return this.learner.restore(state, this.clock.now(), this.fixedIds);
    }
}
