/**
 * Tiered proxies, wired: per pool, new sessions take proxies of the pool's current tier (the learner's
 * {@link TierLadder}), or, when its time came, one probe session on the tier below. The site moves up when the ladder
 * says so (blocks in a row) or when its tier has no usable proxy left (all in backoff or banned); sessions that exist
 * keep their proxy. The ladder hears each use's verdict through the learner; a probe that ended without one is let go.
 */
import type { Log } from '@crawlee/core';

import type { ProxyHealthModel } from './health-model.js';
import type { LearnedHealth } from './learner/model.js';
import type { PersistedTiers, TierLadder } from './learner/tiers.js';
import type { ProxyCandidate } from './slot.js';

/** The ladder as stored with the state (its own version, so older states without it or with another one start fresh). */
export interface PersistedTierState {
    v: 1;
    sites: Record<string, PersistedTiers>;
}

/** What `manager.stats()` shows per pool with tiered proxies. */
export interface TierStats {
    /** The tier new sessions of the pool take (0 = cheapest). */
    current: number;
    /** Uses (reported outcomes) per tier in this run. */
    usesPerTier: number[];
}

export class TierGate {
    /** The gate of a manager whose proxies come in two tiers or more (undefined otherwise). */
    static create(tiers: { of: ReadonlyMap<string, number> } | undefined, health: LearnedHealth, log: Log): TierGate | undefined {
        const ladder = health.learner.tiers;
        return tiers && ladder ? new TierGate(ladder, tiers.of, health, log) : undefined;
    }

    /** Proxy ids per tier. */
    private readonly members: string[][];

    constructor(
        private readonly ladder: TierLadder,
        private readonly tierOfId: ReadonlyMap<string, number>,
        private readonly health: ProxyHealthModel,
        private readonly log: Log,
    ) {
        this.members = Array.from({ length: ladder.tierCount }, () => []);
        for (const [id, tier] of tierOfId) this.members[tier]!.push(id);
    }

    /** The tier of a configured proxy. */
    tierOf(proxyId: string): number | undefined {
        return this.tierOfId.get(proxyId);
    }

    /** The scheduler's view for one pool. */
    forSite(site: string): { narrow(proxies: ProxyCandidate[], now: number): ProxyCandidate[] } {
        return { narrow: (proxies, now) => this.narrow(site, proxies, now) };
    }

    /**
     * Of the usable proxies a new session of `site` could take, those of the site's tier: the probe's proxy alone when
     * a probe of the tier below is due, the current tier's otherwise. A tier without a usable proxy moves the site up;
     * at the top, any lower tier that still has one will do.
     */
    narrow(site: string, proxies: ProxyCandidate[], now: number): ProxyCandidate[] {
        let current = this.ladder.current(site);
        while (!this.hasUsable(site, current, now)) {
            if (current + 1 >= this.ladder.tierCount) return proxies.filter((p) => this.tierOfId.get(p.id)! < current);
            this.ladder.exhausted(site, current, now);
            this.moved(site, current, `no proxy of tier ${current} is usable there`);
            current = this.ladder.current(site);
        }
        if (this.ladder.probeDue(site, now)) {
            let probe: ProxyCandidate | undefined;
            for (const p of proxies) if (this.tierOfId.get(p.id) === current - 1 && (!probe || p.lastPickedSeq < probe.lastPickedSeq)) probe = p;
            if (probe) {
                this.ladder.startProbe(site, probe.id, now);
                this.log.info(`Pool "${site}" probes proxy tier ${current - 1} again with one new session.`);
                return [probe];
            }
            this.ladder.probeNotPossible(site, now);
        }
        return proxies.filter((p) => this.tierOfId.get(p.id) === current);
    }

    /** A proxy of the tier is usable (or its probe is out): the tier is not exhausted. Paced proxies count as usable. */
    private hasUsable(site: string, tier: number, now: number): boolean {
        for (const id of this.members[tier]!) {
            const a = this.health.availability(id, site, now);
            if (a === 'usable' || a === 'probing') return true;
        }
        return false;
    }

    /** What the learner needs to know about a use of `proxyId` on `site`: its tier and whether it is the ladder's probe. */
    useInfo(site: string, proxyId: string): { tier?: number; tierProbe?: boolean } {
        const tier = this.tierOfId.get(proxyId);
        if (tier === undefined) return {};
        return this.ladder.isProbe(site, proxyId) ? { tier, tierProbe: true } : { tier };
    }

    /**
     * After the learner recorded an outcome of `proxyId` on `site` (the ladder heard it if it was a verdict): a probe
     * still out on that proxy got no verdict, so it is let go; a move of the site is logged.
     */
    recorded(site: string, proxyId: string, before: number, now: number): void {
        this.ladder.probeInconclusive(site, proxyId, now);
        this.moved(site, before, 'its proxies there kept being blocked');
    }

    /** The site's tier now (call before an outcome, to log a move after it). */
    current(site: string): number {
        return this.ladder.current(site);
    }

    /** Counts one reported use of `proxyId` on `site`. */
    countUse(site: string, proxyId: string): void {
        const tier = this.tierOfId.get(proxyId);
        if (tier !== undefined) this.ladder.countUse(site, tier);
    }

    stats(site: string): TierStats {
        return { current: this.ladder.current(site), usesPerTier: [...this.ladder.uses(site)] };
    }

    /** The crawl report's extras: the pool's tier and uses per tier, each proxy's tier. */
    reportSources(): { poolExtra(key: string): Record<string, string | number>; proxyExtra(proxyId: string): Record<string, number> | undefined } {
        return {
            poolExtra: (key) => ({ 'proxy tier': this.ladder.current(key), 'uses per tier': this.ladder.uses(key).join(' / ') }),
            proxyExtra: (proxyId) => {
                const tier = this.tierOfId.get(proxyId);
                return tier === undefined ? undefined : { tier };
            },
        };
    }

    private moved(site: string, from: number, why: string): void {
        const to = this.ladder.current(site);
        if (to > from) this.log.info(`Pool "${site}" moves up to proxy tier ${to}: ${why}. Tier ${from} is probed again later.`);
        else if (to < from) this.log.info(`Pool "${site}" moves back down to proxy tier ${to}: its probe passed.`);
    }

    toJSON(): PersistedTierState {
        return { v: 1, sites: this.ladder.toJSON() };
    }

    /** Restores a stored ladder; anything but version 1 (or nothing: an older state) leaves every site on tier 0. */
    restore(data: PersistedTierState | undefined): void {
        const d = data as Partial<PersistedTierState> | undefined;
        if (d?.v !== 1 || typeof d.sites !== 'object' || d.sites === null) return;
        this.ladder.restore(d.sites);
    }
}
