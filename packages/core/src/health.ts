/**
 * Proxy health per (proxy, site) with the proxy's record everywhere as a prior. Proxy-failure outcomes put a proxy in
 * exponential backoff (with jitter and a cap) after which it is probed by exactly one use; blocked outcomes count
 * against the proxy for that site and, repeated, back it off and finally ban it there. A proxy in backoff is never
 * usable.
 *
 * The scheduler consumes health only through {@link ProxyHealthModel} (a learner can replace {@link ProxyHealth}):
 * each pool keeps one {@link HealthHandle} per proxy in that proxy's slot and re-reads it only when its `version`
 * changed or the time it said its answer holds until has passed.
 */
import type { Clock } from './clock.js';
import { availabilityKey, availabilityOf, Handle, sameAvailability, scoreOf, type HealthEntry } from './health-handle.js';
import type {
    HealthChange,
    HealthHandle,
    HealthRecord,
    OutcomeEffect,
    PersistedHealth,
    ProxyAvailability,
    ProxyHealthModel,
} from './health-model.js';

/** Proxy backoff settings (`proxyBackoff` option). */
export interface ProxyBackoffOptions {
    /** First backoff after a proxy failure, in milliseconds. @default 5000 */
    baseMillis?: number;
    /** Cap of the exponential backoff, in milliseconds. @default 600000 (10 minutes) */
    maxMillis?: number;
    /** Random spread of each backoff, as a fraction: 0.2 means ±20 %. @default 0.2 */
    jitter?: number;
    /** Consecutive blocked outcomes of one proxy on one site that back it off for that site. @default 3 */
    blockedInRow?: number;
    /** Consecutive backoffs for one site (without a success in between) after which the proxy is banned there. @default 5 */
    banAfterBackoffs?: number;
    /** Consecutive target errors of one proxy on one site that count as one failure for that site. @default 5 */
    targetErrorsInRow?: number;
}

export type ResolvedBackoff = Required<ProxyBackoffOptions>;

export const DEFAULT_BACKOFF: ResolvedBackoff = {
    baseMillis: 5_000,
    maxMillis: 600_000,
    jitter: 0.2,
    blockedInRow: 3,
    banAfterBackoffs: 5,
    targetErrorsInRow: 5,
};

function emptyRecord(): HealthRecord {
    return { successes: 0, blocked: 0, proxyFailures: 0, rateLimited: 0, targetErrors: 0, failuresInRow: 0, targetErrorsInRow: 0, backoffs: 0 };
}

/** Proxy health per (proxy, site) with a global prior, exponential backoff with jitter, probing and bans. */
export class ProxyHealth implements ProxyHealthModel {
    private readonly records = new Map<string, HealthEntry>();
    private changes = 0;
    private readonly key: number[] = [0, 0, 0, 0, 0, 0];

    get epoch(): number {
        return this.changes;
    }

    constructor(
        private readonly options: ResolvedBackoff,
        private readonly clock: Clock,
        private readonly random: () => number,
    ) {}

    private entry(proxyId: string): HealthEntry {
        let e = this.records.get(proxyId);
        if (!e) {
            e = { global: emptyRecord(), sites: new Map(), probesInFlight: new Set(), version: 0, generation: 0 };
            this.records.set(proxyId, e);
        }
        return e;
    }

    /** The global record of a proxy (read-only view). */
    global(proxyId: string): Readonly<HealthRecord> {
        return this.entry(proxyId).global;
    }

    /** The record of a proxy on one site (read-only view). */
    site(proxyId: string, site: string): Readonly<HealthRecord> {
        return this.siteRecord(proxyId, site);
    }

    private siteRecord(proxyId: string, site: string): HealthRecord {
        const e = this.entry(proxyId);
        let r = e.sites.get(site);
        if (!r) {
            r = emptyRecord();
            e.sites.set(site, r);
        }
        return r;
    }

    /**
     * Whether a session on this proxy may be handed out for this site now. `probing` means the backoff is over but a
     * probe use is already in flight: wait for its outcome.
     */
    availability(proxyId: string, site: string, now = this.clock.now()): ProxyAvailability {
        return availabilityOf(this.entry(proxyId), site, now);
    }

    /** The earliest time this proxy could become usable for this site (for waiting), or undefined if banned. */
    usableAt(proxyId: string, site: string): number | undefined {
        const e = this.entry(proxyId);
        const s = e.sites.get(site);
        if (s?.banned) return undefined;
        return Math.max(e.global.backoffUntil ?? 0, s?.backoffUntil ?? 0);
    }

    /** Rate-limit pacing of this proxy on this site: sessions on it should not be used before this time. */
    pacedUntil(proxyId: string, site: string): number {
        return this.entry(proxyId).sites.get(site)?.pacedUntil ?? 0;
    }

    /** Call when a session on this proxy is handed out: the first use after a backoff becomes the (only) probe. */
    onHandOut(proxyId: string, site: string): void {
        const e = this.entry(proxyId);
        if (e.global.probing && !e.probesInFlight.has('*')) {
            e.probesInFlight.add('*');
            e.version++;
            this.changes++;
        }
        if (e.sites.get(site)?.probing && !e.probesInFlight.has(site)) {
            e.probesInFlight.add(site);
            e.version++;
            this.changes++;
        }
    }

    handle(proxyId: string, site: string): HealthHandle {
        return new Handle(this.entry(proxyId), site);
    }

    /** Records the outcome of one use of this proxy on this site. */
    record(proxyId: string, site: string, effect: OutcomeEffect, rateLimitMillis = 0): HealthChange {
        const now = this.clock.now();
        const e = this.entry(proxyId);
        const g = e.global;
        const s = this.siteRecord(proxyId, site);
        const before = availabilityKey(e, s, this.key);
        const change: HealthChange = {};
        const wasGlobalProbe = e.probesInFlight.delete('*');
        const wasSiteProbe = e.probesInFlight.delete(site);
        if (wasGlobalProbe || wasSiteProbe) change.probeEnded = true;
        switch (effect) {
            case 'success': {
                g.successes++;
                s.successes++;
                g.targetErrorsInRow = 0;
                s.targetErrorsInRow = 0;
                // A success during a backoff is a use that started before it: it does not lift the backoff early.
                for (const r of [g, s]) {
                    if ((r.backoffUntil ?? 0) > now) continue;
                    r.failuresInRow = 0;
                    r.backoffs = 0;
                    r.probing = false;
                    delete r.backoffUntil;
                }
                break;
            }
            case 'proxy-failure': {
                g.proxyFailures++;
                s.proxyFailures++;
                g.failuresInRow++;
                // The proxy itself failed: back it off everywhere (unless a backoff is already running).
                if ((g.backoffUntil ?? 0) <= now) {
                    change.backoff = { scope: 'global', untilMillis: this.startBackoff(g, now) };
                }
                break;
            }
            case 'blocked': {
                g.blocked++;
                s.blocked++;
                s.failuresInRow++;
                s.targetErrorsInRow = 0;
                if ((s.backoffUntil ?? 0) <= now && (wasSiteProbe || s.failuresInRow >= this.options.blockedInRow)) {
                    if (s.backoffs + 1 >= this.options.banAfterBackoffs) {
                        s.banned = true;
                        s.probing = false;
                        delete s.backoffUntil;
                        change.banned = true;
                    } else {
                        change.backoff = { scope: 'site', untilMillis: this.startBackoff(s, now) };
                    }
                }
                break;
            }
            case 'rate-limited': {
                g.rateLimited++;
                s.rateLimited++;
                if (rateLimitMillis > 0) s.pacedUntil = Math.max(s.pacedUntil ?? 0, now + rateLimitMillis);
                break;
            }
            case 'target-error': {
                g.targetErrors++;
                s.targetErrors++;
                s.targetErrorsInRow++;
                if (s.targetErrorsInRow >= this.options.targetErrorsInRow) {
                    s.targetErrorsInRow = 0;
                    s.failuresInRow++;
                    if ((s.backoffUntil ?? 0) <= now && s.failuresInRow >= this.options.blockedInRow) {
                        change.backoff = { scope: 'site', untilMillis: this.startBackoff(s, now) };
                    }
                }
                break;
            }
            case 'neutral':
                break;
        }
        if (!sameAvailability(e, s, before)) {
            e.version++;
            this.changes++;
        }
        return change;
    }

    /** Exponential backoff with jitter and a cap; the next use after it is a probe. */
    private startBackoff(r: HealthRecord, now: number): number {
        const { baseMillis, maxMillis, jitter } = this.options;
        const raw = Math.min(maxMillis, baseMillis * 2 ** Math.min(r.backoffs, 40));
        const spread = 1 + jitter * (2 * this.random() - 1);
        const delay = Math.max(1, Math.min(maxMillis, Math.round(raw * spread)));
        r.backoffs++;
        r.backoffUntil = now + delay;
        r.probing = true;
        return r.backoffUntil;
    }

    /**
     * Estimated chance that a use of this proxy on this site goes well: a Beta-style mean of the site's record, with
     * the proxy's global record as the prior (weight `priorWeight`).
     */
    score(proxyId: string, site: string, priorWeight = 2): number {
        return scoreOf(this.entry(proxyId), site, priorWeight);
    }

    /** Number of judged uses of this proxy on this site (for exploration bonuses). */
    trials(proxyId: string, site: string): number {
        const s = this.entry(proxyId).sites.get(site);
        return s ? s.successes + s.blocked + s.proxyFailures : 0;
    }

    /** Counts of proxies (among `ids`) by availability on `site`. */
    summarize(ids: Iterable<string>, site: string): { total: number; backoff: number; banned: number; nextRetryAt?: number } {
        const now = this.clock.now();
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
                const at = this.usableAt(id, site);
                if (at !== undefined && (nextRetryAt === undefined || at < nextRetryAt)) nextRetryAt = at;
            }
        }
        return { total, backoff, banned, nextRetryAt };
    }

    /** Number of proxies currently in backoff / banned anywhere (for stats). */
    counts(): { tracked: number; backoff: number; bannedOnSites: number } {
        const now = this.clock.now();
        let backoff = 0;
        let bannedOnSites = 0;
        for (const e of this.records.values()) {
            let inBackoff = (e.global.backoffUntil ?? 0) > now;
            for (const s of e.sites.values()) {
                if (s.banned) bannedOnSites++;
                if ((s.backoffUntil ?? 0) > now) inBackoff = true;
            }
            if (inBackoff) backoff++;
        }
        return { tracked: this.records.size, backoff, bannedOnSites };
    }

    /** Plain-data snapshot (by proxy id only: no URLs). Probes in flight are not persisted: they end with the process. */
    toJSON(): PersistedHealth {
        const out: PersistedHealth = {};
        for (const [id, e] of this.records) {
            out[id] = { global: { ...e.global }, sites: Object.fromEntries([...e.sites].map(([k, v]) => [k, { ...v }])) };
        }
        return out;
    }

    /** Restores a snapshot made by {@link toJSON} (backoffs keep their deadlines). */
    recordOf(proxyId: string, scope: string): HealthRecord | undefined {
        const e = this.records.get(proxyId);
        const r = scope === '*' ? e?.global : e?.sites.get(scope);
        return r ? { ...r } : undefined;
    }

    merge(proxyId: string, scope: string, record: HealthRecord): void {
        const entry = this.entry(proxyId);
        const merged = { ...emptyRecord(), ...record };
        if (scope === '*') entry.global = merged;
        else entry.sites.set(scope, merged);
        entry.version++;
    }

    restore(data: PersistedHealth): void {
        for (const [id, e] of Object.entries(data)) {
            const entry = this.entry(id);
            entry.global = { ...emptyRecord(), ...e.global };
            entry.sites = new Map(Object.entries(e.sites).map(([k, v]) => [k, { ...emptyRecord(), ...v }]));
            entry.probesInFlight.clear();
            entry.version++;
            entry.generation++;
            this.changes++;
        }
    }
}
