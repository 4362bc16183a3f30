/**
 * Reporting a use: the end of one open use of a session, its outcome applied through the outcome table (outcomes.ts)
 * to the session, to proxy health (the learner, which says whose fault a block was) and to the stats, with the log
 * lines that go with it. The manager's `report()` and the init flow's health records come through here.
 */
import type { Log } from '@crawlee/core';

import type { Clock } from './clock.js';
import type { OutcomeEffect, UseInfo } from './health-model.js';
import type { LearnedHealth } from './learner/model.js';
import { DEFAULT_POOL_OPTIONS, resolvePoolOptions, type ResolvedPoolOptions, type SessionManagerOptions } from './options.js';
import { applySessionEffect, mergeAttempt, OUTCOMES, outcomeTypeOf, rateLimitMillisOf, type SessionEffectInput } from './outcomes.js';
import type { StateSaver } from './persistence.js';
import type { Pool } from './pool.js';
import { DIRECT_PROXY_ID, proxyLabel, type ProxySource } from './proxies.js';
import type { Redactor } from './redact.js';
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';
import type { StatsCounters } from './stats.js';
import type { TierGate } from './tier-gate.js';
import type { CrawlTimeline } from './timeline.js';
import type { Outcome, RequestLike } from './types.js';

/** What reporting needs from the manager. */
export interface UseReportDeps {
    clock: Clock;
    random: () => number;
    log: Log;
    options: SessionManagerOptions;
    pools: ReadonlyMap<string, Pool>;
    health: LearnedHealth;
    counters: StatsCounters;
    proxies: ProxySource;
    redactor: Redactor;
    saver: StateSaver | undefined;
    tierGate: TierGate | undefined;
    timeline: CrawlTimeline | undefined;
    retire(session: ManagedSession, reason: string): void;
}

/** See the module comment; one per manager. */
export class UseReports {
    private readonly use: UseInfo = { sessionId: '', goodUses: 0, dynamicProxy: false, checkFailed: false };

    /** What `applySessionEffect` reads of a use (one object per manager, refilled: it keeps nothing of it). */
    private readonly effect: SessionEffectInput;

    constructor(private readonly d: UseReportDeps) {
        this.effect = { type: 'ok', reason: '', now: 0, delay: 0, rateLimitMillis: 0, o: DEFAULT_POOL_OPTIONS };
    }

    /** The manager's `report()`: see its documentation. */
    report(session: ManagedSession, outcome: Outcome, request?: RequestLike): void {
        const d = this.d;
        const marks = session.attemptMarks;
        const s = session.real;
        if (s.inUse > 0) s.inUse--;
        const type0 = outcomeTypeOf(outcome);
        const reason0 = outcome.reason ? d.redactor.text(outcome.reason) : type0;
        // Merged only for an attempt's handle (an object per merge): a plain report keeps its type and reason.
        const merged = marks ? mergeAttempt(marks, type0, reason0) : undefined;
        const type = merged ? merged.type : type0;
        const reason = merged ? merged.reason : reason0;
        const key = s.poolKey;
        const pool = d.pools.get(key);
        const o = pool?.options ?? resolvePoolOptions(d.options, key);
        const rule = OUTCOMES[type];
        const now = d.clock.now();
        // How long a use takes: the pool weighs waiting for a session against exploring a proxy in uses of it.
        if (pool && s.lastUsedAt !== undefined) pool.scheduler.gate.used(s.lastUsedAt, now);
        // The pool's rows at hand: with many pools a lookup by key lands in a cold table.
        (pool ? (pool.counterRow ??= d.counters.row(key)) : d.counters.row(key))[rule.counter]++;
        const timeline = d.timeline;
        if (timeline) timeline.useIn(pool ? (pool.timelineRow ??= timeline.row(key)) : timeline.row(key), type, now, reason, request?.url);
        const rateLimitMillis = type === 'rate-limited' ? rateLimitMillisOf(outcome, o) : 0;
        // Its slot's id is its proxy's (the slot is hot; the identity and its proxy ref are objects of their own).
        const pid = s.proxySlot?.id ?? s.identity.proxy?.id ?? DIRECT_PROXY_ID;
        // One object per manager, refilled: the learner reads it during the call and keeps nothing of it.
        const use = this.use;
        use.sessionId = s.id;
        use.goodUses = s.usageCount;
        use.dynamicProxy = d.proxies.dynamic;
        use.checkFailed = type === 'check-failed';
        d.tierGate?.countUse(key, pid);
        // A 5xx is the target's error: a direct connection is never backed off for it.
        const effect = rule.health === 'target-error' && pid === DIRECT_PROXY_ID ? 'neutral' : rule.health;
        // Through the session's slot handle (the same proxy and pool): it holds the records the learner reads and writes.
        const change = this.recordHealth(pid, key, effect, rateLimitMillis, use, now, s.proxySlot, pool);
        if (!s.isRetired) {
            // A site-wide block is nobody's fault: the session stays (the pool pauses instead).
            const effectiveRule = change.blame === 'site' ? OUTCOMES['handler-error'] : rule;
            const cools = effectiveRule.session === 'good' || effectiveRule.session === 'error' || effectiveRule.session === 'use';
            const e = this.effect;
            e.type = type;
            e.reason = reason;
            e.now = now;
            e.delay = cools ? this.delayOf(o) : 0;
            e.rateLimitMillis = rateLimitMillis;
            e.o = o;
            let retireReason = applySessionEffect(s, effectiveRule, e);
            if (!retireReason && change.retireSession) retireReason = `${type}: ${reason} (${change.message ?? 'retired by the learner'})`;
            const cap = d.health.learner.cap(key, now);
            if (!retireReason && cap !== undefined && s.usageCount >= cap && s.inUse === 0) retireReason = `learned cap reached (${cap} uses)`;
            if (retireReason) d.retire(s, retireReason);
            else {
                pool?.scheduler.settle(s, now);
                d.saver?.sessionChanged(s);
            }
        }
        pool?.notify();
    }

    /** The cool-down after an ordinary use: min delay plus jitter (drawn only when there is jitter). */
    private delayOf(o: ResolvedPoolOptions): number {
        return o.minDelayBetweenUsesMillis + (o.delayJitterMillis > 0 ? this.d.random() * o.delayJitterMillis : 0);
    }

    /**
     * Records an outcome in proxy health and acts on what the learner says: backoffs, bans, pauses, stops, tiers. `via`:
     * the proxy's slot in the pool of `site` (its handle holds the records; the pool need not look the slot up); `pool`:
     * the pool of `site`, when the caller has it at hand.
     */
    recordHealth(
        proxyId: string,
        site: string,
        effect: OutcomeEffect,
        rateLimitMillis = 0,
        use?: UseInfo,
        now = this.d.clock.now(),
        via?: ProxySlot<ManagedSession>,
        pool = this.d.pools.get(site),
    ) {
        const d = this.d;
        const gate = d.tierGate;
        const tierBefore = gate?.current(site) ?? 0;
        const info = gate ? { ...use, ...gate.useInfo(site, proxyId) } : (use ?? {});
        const change = via ? via.health.record(effect, rateLimitMillis, info, now) : d.health.record(proxyId, site, effect, rateLimitMillis, info, now);
        gate?.recorded(site, proxyId, tierBefore, now);
        pool?.scheduler.touch(proxyId, via);
        if (d.proxies.dynamic) pool?.scheduler.judged(proxyId, effect, now, rateLimitMillis);
        if (change.message) (change.stop || change.pausePoolUntil ? d.log.warning : d.log.info).call(d.log, change.message);
        if (change.stop && pool && !pool.stopReason) pool.stopReason = change.stop;
        if (change.pausePoolUntil) d.counters.inc(site, 'pool/paused');
        const label = change.backoff || change.banned ? (proxyId === DIRECT_PROXY_ID ? proxyId : proxyLabel(d.proxies.byId(proxyId))) : '';
        if (change.backoff) {
            d.counters.inc(site, 'proxy/backoff');
            d.log.info(
                `Proxy ${label} backs off ${change.backoff.scope === 'global' ? 'everywhere' : `for pool "${site}"`} until ` +
                    `${new Date(change.backoff.untilMillis).toISOString()}.`,
            );
        }
        if (change.banned) d.log.warning(`Proxy ${label} is banned for pool "${site}" (blocked again after repeated backoffs).`);
        d.saver?.healthChanged(proxyId, Boolean(change.backoff || change.banned));
        // A global probe holds back sessions of every pool on this proxy: let their waiters look again.
        if (change.probeEnded) for (const other of d.pools.values()) if (other.key !== site) other.notify();
        return change;
    }
}
