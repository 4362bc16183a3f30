/**
 * The learner: everything sessionpack learns from outcomes, behind one small interface the scheduler and the
 * outcome table call. Pure logic on explicit time (`now`) and a caller's random stream; no I/O.
 *
 * - health with recency per (proxy, site) ({@link FadingHealth}), read by the policy (Thompson sampling);
 * - blame ({@link attributeBlock}) with the site guard ({@link SiteGuard});
 * - decaying backoffs and bans with probes ({@link escalate}), proxy failures backing a proxy off everywhere;
 * - learned pace per (proxy, site) ({@link PaceLearner}) and a learned cap per pool ({@link CapLearner});
 * - learned wear per site ({@link WearLearner}): proxies that burn after ~N good uses are rested at N;
 * - tiers ({@link TierLadder}) when the proxies come in tiers;
 * - gateways: a dynamic session that keeps getting 429s is retired (its id re-rolled) instead of waited on, its
 *   Retry-After waited out `gatewayRetryAfterFactor` times over (its unknown exit is shared), and a burst of blocks at
 *   disagreeing counts (an exit burning under several session ids) teaches no cap.
 */
import { type BackoffRecord, type BackoffState, backoffState, DEFAULT_DECAYING_BACKOFF, escalate, type ResolvedDecayingBackoff, reopenIfAllBlocked, settle } from './backoff.js';
import type { Random } from './beta.js';
import { attributeBlock, SiblingTracker } from './blame.js';
import { CapLearner } from './cap.js';
import { deferSiblings } from './deferral.js';
import { FadingHealth } from './health.js';
import { PaceLearner } from './pace.js';
import { PairSlot, Pairs, type Pair } from './pair-map.js';
import { RecoveryTimes } from './recovery.js';
import { DEFAULT_SITE_GUARD, SiteGuard, type Latest } from './site-guard.js';
import { TierLadder } from './tiers.js';
import { WearLearner, WORN_SCORE_FACTOR } from './wear.js';

export type { LearnerOptions, UseContext, LearnedOutcome, LearnerEffects, LearnedAvailability, PersistedLearnerState } from './learner-types.js';
import type { LearnerOptions, UseContext, LearnedOutcome, LearnerEffects, LearnedAvailability, PersistedLearnerState } from './learner-types.js';

const GLOBAL = '*';
const key = (proxyId: string, site: string) => `${proxyId}\u0000${site}`;

export class Learner {
    /** The interning of (proxy, site) pairs shared by the per-pair records below (a pool's health handle holds its pair). */
    readonly pairs = new Pairs();
    readonly health: FadingHealth;
    readonly pace: PaceLearner;
    readonly wear: WearLearner;
    readonly tiers: TierLadder | undefined;
    private readonly backoffOptions: ResolvedDecayingBackoff;
    private readonly backoffs = new Map<string, BackoffRecord>();
    private readonly lastEscalation = new Map<string, { before: BackoffRecord | undefined; at: number }>();
    /** How long blocked proxies take to recover per site (the first backoff follows it). */
    private readonly recoveries = new RecoveryTimes();
    private readonly probesOut = new Set<string>();
    private readonly guards = new Map<string, SiteGuard>();
    /** The guards again on the pairs of their sites, and each guard's record of a pair's proxy (no cold table per use). */
    private readonly guardOf = new PairSlot<SiteGuard>(this.pairs);
    private readonly latestOf = new PairSlot<Latest>(this.pairs);
    /** Whether any site's guard ever paused its pool (until then no pool is, and an acquire looks up no guard in a cold map). */
    private anyPause = false;
    private readonly caps = new Map<string, CapLearner>();
    private readonly siblings = new SiblingTracker(undefined, this.pairs);
    private readonly limitedInRow = new Map<string, number>();
    private readonly targetErrors = new Map<string, number>();
    private readonly manyGoodUses: number;
    private readonly gatewayRateLimitsToRetire: number;
    private readonly gatewayRetryAfterFactor: number;
    private readonly targetErrorsInRow: number;
    /** Counters for the stats. */
    readonly counts = { siteWidePauses: 0, absolved: 0, gatewayRerolls: 0, backoffs: 0, bans: 0, rested: 0, deferredProbes: 0 };

    constructor(
        private readonly options: LearnerOptions,
        private readonly random: Random,
        tierCount = 0,
    ) {
        this.health = new FadingHealth(options.health, this.pairs);
        this.pace = new PaceLearner(options.pace, this.pairs);
        this.wear = new WearLearner(options.wear, this.pairs);
        this.backoffOptions = { ...DEFAULT_DECAYING_BACKOFF, ...options.backoff };
        this.tiers = tierCount > 1 ? new TierLadder(tierCount, options.tiers) : undefined;
        this.manyGoodUses = options.manyGoodUses ?? 3;
        this.gatewayRateLimitsToRetire = options.gatewayRateLimitsToRetire ?? 2;
        this.gatewayRetryAfterFactor = options.gatewayRetryAfterFactor ?? 2;
        this.targetErrorsInRow = options.targetErrorsInRow ?? 5;
    }

    private guard(site: string, pair?: Pair): SiteGuard {
        let g = pair && this.guardOf.at(pair);
        if (g) return g;
        g = this.guards.get(site);
        if (!g) {
            g = new SiteGuard(site, this.options.siteWide, this.latestOf);
            this.guards.set(site, g);
        }
        if (pair) this.guardOf.set(pair, g);
        return g;
    }

    private capOf(pool: string): CapLearner {
        let c = this.caps.get(pool);
        if (!c) {
            c = new CapLearner(this.options.cap);
            this.caps.set(pool, c);
        }
        return c;
    }

    /** Whether a session on `proxyId` may be handed out for `site` now. */
    availability(proxyId: string, site: string, now: number): LearnedAvailability {
        let result: LearnedAvailability = 'usable';
        // No backoff anywhere (the usual case): nothing to look up.
        if (this.backoffs.size === 0) return result;
        for (const scope of [GLOBAL, site]) {
            const state: BackoffState = backoffState(this.backoffs.get(key(proxyId, scope)), now, this.backoffOptions);
            if (state === 'banned') return 'banned';
            if (state === 'backoff') result = 'backoff';
            else if (state === 'probe' && result === 'usable') result = this.probesOut.has(key(proxyId, scope)) ? 'probing' : 'probe';
        }
        return result;
    }

    /** When the proxy's backoff on the site (or everywhere) ends; 0 when none runs. */
    backoffUntil(proxyId: string, site: string): number {
        return Math.max(this.backoffs.get(key(proxyId, GLOBAL))?.until ?? 0, this.backoffs.get(key(proxyId, site))?.until ?? 0);
    }

    /** Backoff level of the proxy on the site (or everywhere, whichever is higher). */
    backoffLevel(proxyId: string, site: string): number {
        return Math.max(this.backoffs.get(key(proxyId, GLOBAL))?.level ?? 0, this.backoffs.get(key(proxyId, site))?.level ?? 0);
    }

    /** Proxies known / in backoff somewhere / banned on some site right now (stats). */
    summary(now: number): { tracked: number; backoff: number; bannedOnSites: number } {
        const inBackoff = new Set<string>();
        let bannedOnSites = 0;
        for (const [k, r] of this.backoffs) {
            const state = backoffState(r, now, this.backoffOptions);
            if (state === 'banned') bannedOnSites++;
            else if (state === 'backoff') inBackoff.add(k.split('\u0000')[0]!);
        }
        return { tracked: Object.keys(this.health.toJSON()).length, backoff: inBackoff.size, bannedOnSites };
    }

    /** Earliest start of the next use of `proxyId` on `site` by learned pace and Retry-After (0: now). */
    readyAt(proxyId: string, site: string, now: number, pair?: Pair): number {
        return this.pace.readyAt(proxyId, site, now, pair);
    }

    /** When the pool of `site` is paused until (0: not paused). */
    pausedUntil(site: string): number {
        return this.anyPause ? (this.guards.get(site)?.pauseDeadline ?? 0) : 0;
    }

    /** The learned cap of a pool (retire sessions once they had this many good uses), if any. */
    cap(pool: string, now: number): number | undefined {
        return this.caps.size === 0 ? undefined : this.caps.get(pool)?.cap(now);
    }

    /** Thompson draw of the proxy's health on the site (for the policy). */
    sample(proxyId: string, site: string, now: number, pair?: Pair): number {
        const draw = this.health.sample(proxyId, site, now, this.random, pair);
        return this.wear.worn(proxyId, site, now, pair) ? WORN_SCORE_FACTOR * draw : draw;
    }

    /**
     * Call when a use starts: marks probes, feeds the pace. Returns whether the proxy's availability or pace may have
     * changed by it (a probe went out, a pace moved its next slot).
     */
    onSend(ctx: UseContext, now: number): boolean {
        let changed = false;
        if (this.backoffs.size > 0) {
            for (const scope of [GLOBAL, ctx.site]) {
                const k = key(ctx.proxyId, scope);
                if (backoffState(this.backoffs.get(k), now, this.backoffOptions) === 'probe' && !this.probesOut.has(k)) {
                    this.probesOut.add(k);
                    changed = true;
                }
            }
        }
        return this.pace.onSend(ctx.proxyId, ctx.site, now, ctx.pair) || changed;
    }

    /** Learns from one outcome and says what to do. */
    onOutcome(ctx: UseContext, outcome: LearnedOutcome, now: number): LearnerEffects {
        const { site, proxyId } = ctx;
        let globalProbeEnded = false;
        let probeEnded = false;
        if (this.probesOut.size > 0) {
            globalProbeEnded = this.probesOut.delete(key(proxyId, GLOBAL));
            probeEnded = this.probesOut.delete(key(proxyId, site)) || globalProbeEnded;
        }
        // Anything but an ordinary success may change what the scheduler reads of the proxy (the cases below say).
        const effects: LearnerEffects = { retireSession: false, availabilityChanged: outcome.kind !== 'ok' && outcome.kind !== 'neutral', globalProbeEnded };
        if (probeEnded) effects.availabilityChanged = true;
        if (outcome.kind !== 'rate-limited' && this.limitedInRow.size > 0) this.limitedInRow.delete(ctx.sessionId);
        if (outcome.kind !== 'target-error' && this.targetErrors.size > 0) this.targetErrors.delete(key(proxyId, site));
        switch (outcome.kind) {
            case 'ok': {
                this.guard(site, ctx.pair).observe(proxyId, false, now, false, false, ctx.pair);
                this.health.record(proxyId, site, true, now, ctx.pair);
                this.siblings.onGood(proxyId, site, ctx.sessionId, now, ctx.pair);
                const paced = this.pace.onSuccess(proxyId, site, now, ctx.pair, ctx.dynamicProxy);
                if (paced) effects.availabilityChanged = true;
                if (paced === 'site') effects.siteChanged = true;
                // Through a gateway the proxy id is the session's own: its exit is unknown and shared, no wear to learn.
                const limit = ctx.dynamicProxy ? undefined : this.wear.onGood(proxyId, site, now, ctx.pair);
                if (limit !== undefined) this.counts.rested++;
                // A session at the learned cap is retired for it anyway (that reason is the more precise one).
                const capped = (this.cap(site, now) ?? Infinity) <= ctx.goodUses + 1;
                if (limit !== undefined && !capped) {
                    effects.retireSession = true;
                    effects.message = `proxy ${proxyId} had ${limit} good uses on ${site} since its last block (the learned wear limit): resting it`;
                }
                for (let i = 0; i < 2 && this.backoffs.size > 0; i++) {
                    const scope = i === 0 ? GLOBAL : site;
                    const k = key(proxyId, scope);
                    const record = this.backoffs.get(k);
                    const settled = settle(record, now);
                    if (settled && settled.level === 0) {
                        this.backoffs.delete(k);
                        this.recoveries.onRecovered(k, scope === GLOBAL ? undefined : scope, now, record?.until);
                        effects.availabilityChanged = true;
                    }
                }
                if (ctx.tier !== undefined) this.tiers?.onOutcome(site, ctx.tier, 'good', now, ctx.tierProbe);
                break;
            }
            case 'blocked':
                this.onBlocked(ctx, now, effects, outcome.checkFailed ?? false);
                break;
            case 'rate-limited': {
                this.guard(site, ctx.pair).observe(proxyId, false, now, false, false, ctx.pair);
                const wait = ctx.dynamicProxy && outcome.retryAfterMillis ? outcome.retryAfterMillis * this.gatewayRetryAfterFactor : outcome.retryAfterMillis;
                if (this.pace.onRateLimited(proxyId, site, now, wait, ctx.dynamicProxy)) effects.siteChanged = true;
                const inRow = (this.limitedInRow.get(ctx.sessionId) ?? 0) + 1;
                this.limitedInRow.set(ctx.sessionId, inRow);
                // Limited with no other use of its own in the last second: another client (another session id) shares its exit.
                const shared = ctx.dynamicProxy === true && this.pace.sendsSince(proxyId, site, now - 1000) === 1;
                if (ctx.dynamicProxy && (inRow >= this.gatewayRateLimitsToRetire || shared)) {
                    effects.retireSession = true;
                    effects.message =
                        inRow >= this.gatewayRateLimitsToRetire
                            ? `session ${ctx.sessionId} got ${inRow} rate limits in a row through a dynamic proxy: retiring it for a new session id`
                            : `session ${ctx.sessionId} was rate-limited through a dynamic proxy with no other request of its own in the last second (its exit is shared): retiring it for a new session id`;
                    this.limitedInRow.delete(ctx.sessionId);
                    this.counts.gatewayRerolls++;
                }
                break;
            }
            case 'proxy-failure':
                effects.retireSession = true;
                effects.backoff = this.charge(proxyId, GLOBAL, now);
                break;
            case 'target-error': {
                const k = key(proxyId, site);
                const n = (this.targetErrors.get(k) ?? 0) + 1;
                this.targetErrors.set(k, n);
                if (n >= this.targetErrorsInRow) {
                    this.targetErrors.delete(k);
                    effects.backoff = this.charge(proxyId, site, now);
                }
                break;
            }
            case 'neutral':
                // A probe that ended without a verdict: let the next use probe again.
                void probeEnded;
                break;
        }
        return effects;
    }

    private onBlocked(ctx: UseContext, now: number, effects: LearnerEffects, checkFailed: boolean): void {
        const { site, proxyId } = ctx;
        const worn = !ctx.duringInit && ctx.goodUses >= this.manyGoodUses;
        const guard = this.guard(site, ctx.pair);
        const verdict = guard.observe(proxyId, true, now, checkFailed, worn, ctx.pair);
        if (guard.pauseDeadline > 0) this.anyPause = true;
        const blame = attributeBlock({
            goodUses: ctx.goodUses,
            duringInit: ctx.duringInit ?? false,
            otherSessionPassed: this.siblings.otherPassed(proxyId, site, ctx.sessionId, now),
            siteWide: verdict.siteWide,
            manyGoodUses: this.manyGoodUses,
            cap: this.caps.get(site)?.cap(now),
        });
        effects.blame = blame;
        if (blame === 'site') {
            // Undo what the episode's earlier blocks charged: they were the site's fault too.
            for (const id of verdict.absolve) this.absolve(id, site, now);
            if (verdict.pauseUntil !== undefined) {
                effects.pausePoolUntil = verdict.pauseUntil;
                this.counts.siteWidePauses++;
            }
            if (verdict.stop) effects.stop = verdict.stop;
            if (verdict.message) effects.message = verdict.message;
            return;
        }
        effects.retireSession = true;
        if (ctx.goodUses > 0 && !ctx.duringInit) this.capOf(site).observe(ctx.goodUses, now, ctx.dynamicProxy);
        if (blame === 'session') return;
        if (!ctx.dynamicProxy) this.wear.onBlamed(proxyId, site, now);
        this.health.record(proxyId, site, false, now, ctx.pair);
        const before = this.backoffs.get(key(proxyId, site));
        effects.backoff = this.charge(proxyId, site, now);
        if (effects.backoff && before && before.level > 0) {
            const deferred = this.deferSiblings(proxyId, site, before.level, now, effects.backoff.until);
            if (deferred.length > 0) effects.deferred = deferred;
        }
        if (ctx.tier !== undefined) this.tiers?.onOutcome(site, ctx.tier, 'blamed', now, ctx.tierProbe);
    }

    /** Backs the proxy off on `scope` (one level up), unless a backoff already runs there. */
    private charge(proxyId: string, scope: string, now: number): LearnerEffects['backoff'] {
        const k = key(proxyId, scope);
        const before = this.backoffs.get(k);
        if ((before?.until ?? 0) > now) return undefined;
        // A proxy with no success on the site on record (proxy failures, scope `GLOBAL`, keep the plain schedule).
        const neverServed = scope !== GLOBAL && !((this.health.countsOf(proxyId, scope)?.ok ?? 0) > 0);
        this.recoveries.onCharged(k, before !== undefined && before.level > 0, now, neverServed);
        const after = escalate(before, now, this.random, this.scheduleFor(scope), neverServed);
        this.backoffs.set(k, after);
        this.lastEscalation.set(k, { before, at: now });
        const banned = after.level >= this.backoffOptions.banAfterBackoffs;
        if (banned) this.counts.bans++;
        else this.counts.backoffs++;
        return { scope: scope === GLOBAL ? 'global' : 'site', until: after.until!, level: after.level, banned };
    }

    /** A failed probe of `proxyId` on `site` after its `level`-th backoff: see {@link deferSiblings}. */
    private deferSiblings(proxyId: string, site: string, level: number, now: number, until: number): string[] {
        if (level + 1 >= this.backoffOptions.banAfterBackoffs) return [];
        const suffix = key('', site);
        const failed = { key: key(proxyId, site), suffix, level, until, proxiesOnSite: this.health.proxiesOn(site) };
        const state = { backoffs: this.backoffs, probesOut: this.probesOut, recoveries: this.recoveries };
        const moved = deferSiblings(state, failed, now).map((k) => k.slice(0, k.length - suffix.length));
        this.counts.deferredProbes += moved.length;
        return moved;
    }

    private scheduleFor(scope: string): ResolvedDecayingBackoff {
        return this.recoveries.scheduleFor(scope, this.backoffOptions);
    }

    /** The first backoff on a site now (the learned recovery time, or the configured base), for stats. */
    firstBackoffMillis(site: string): number {
        return this.scheduleFor(site).baseMillis;
    }

    private absolve(proxyId: string, site: string, now: number): void {
        const k = key(proxyId, site);
        const last = this.lastEscalation.get(k);
        // Only what the episode itself charged (it can last up to stopAfterMillis, plus the window before it).
        const horizon = (this.options.siteWide?.stopAfterMillis ?? DEFAULT_SITE_GUARD.stopAfterMillis) + (this.options.siteWide?.horizonMillis ?? DEFAULT_SITE_GUARD.horizonMillis);
        if (!last || last.at <= now - horizon) return;
        if (last.before) this.backoffs.set(k, last.before);
        else this.backoffs.delete(k);
        this.lastEscalation.delete(k);
        this.counts.absolved++;
    }

    /** Plain-data snapshot for the store. */
    toJSON(): PersistedLearnerState {
        return {
            v: 2,
            health: this.health.toJSON(),
            backoffs: Object.fromEntries(this.backoffs),
            pace: this.pace.toJSON(),
            caps: Object.fromEntries([...this.caps].map(([pool, c]) => [pool, c.toJSON()])),
        };
    }

    /** The stored backoff of one (proxy, site), or undefined (for a shared store's record). */
    backoffRecordOf(proxyId: string, site: string): BackoffRecord | undefined {
        const r = this.backoffs.get(key(proxyId, site));
        return r ? { ...r } : undefined;
    }

    /** Replaces the backoff of one (proxy, site) with a merged one (undefined: none). */
    replaceBackoff(proxyId: string, site: string, record: BackoffRecord | undefined): void {
        if (record) this.backoffs.set(key(proxyId, site), { ...record });
        else this.backoffs.delete(key(proxyId, site));
    }

    /**
     * Restores a snapshot. `proxyIdsOf(site)` lists the proxies a site's pool can use (fixed proxies): when every one
     * of them is in backoff or banned there at `now`, each gets one probe instead (see {@link reopenIfAllBlocked}).
     * Returns the sites where that happened, for the log.
     */
    restore(data: PersistedLearnerState, now: number, proxyIds: readonly string[]): { site: string; reopened: number }[] {
        this.health.restore(data.health);
        this.pace.restore(data.pace);
        for (const [pool, obs] of Object.entries(data.caps)) this.capOf(pool).restore(obs);
        const bySite = new Map<string, Map<string, BackoffRecord>>();
        for (const [k, r] of Object.entries(data.backoffs)) {
            const [proxyId, site] = k.split('\u0000') as [string, string];
            if (!bySite.has(site)) bySite.set(site, new Map());
            bySite.get(site)!.set(proxyId, r);
        }
        const reopened: { site: string; reopened: number }[] = [];
        for (const [site, records] of bySite) {
            const result = site === GLOBAL || proxyIds.length === 0 ? { records, reopened: 0 } : reopenIfAllBlocked(records, proxyIds, now, this.backoffOptions);
            for (const [proxyId, r] of result.records) this.backoffs.set(key(proxyId, site), r);
            if (result.reopened > 0) reopened.push({ site, reopened: result.reopened });
        }
        return reopened;
    }
}

/** The log line for a restored state that had every proxy of a site blocked. */
export function reopenedMessage(site: string, reopened: number, storeHint: string): string {
    return (
        `state from the store had all ${reopened} proxies banned or backed off on ${site}: starting with one probe per proxy instead ` +
        `of failing. To start from scratch, clear the stored state (${storeHint}).`
    );
}
