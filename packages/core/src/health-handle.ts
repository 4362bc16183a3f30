/**
 * The default health handle: one per (proxy, site), holding the proxy's records so the scheduler's reads need no
 * lookup, plus the helpers that decide when a change of the records is an availability change.
 */
import type { HealthHandle, HealthRecord, ProxyAvailability } from './health-model.js';

/** One proxy's records: global, per site, probes in flight. */
export interface HealthEntry {
    global: HealthRecord;
    sites: Map<string, HealthRecord>;
    probesInFlight: Set<string>;
    /** Bumped whenever the availability, backoff or pace of this proxy may have changed somewhere. */
    version: number;
    /** Bumped when the records are replaced (restore). */
    generation: number;
}

export function availabilityOf(e: HealthEntry, site: string, now: number): ProxyAvailability {
    const s = e.sites.get(site);
    if (s?.banned) return 'banned';
    if ((e.global.backoffUntil ?? 0) > now || (s?.backoffUntil ?? 0) > now) return 'backoff';
    if ((e.global.probing || s?.probing) && (e.probesInFlight.has('*') || e.probesInFlight.has(site))) return 'probing';
    return 'usable';
}

/** A Beta-style mean of the site's record, with the proxy's global record as the prior (weight `priorWeight`). */
export function scoreOf(e: HealthEntry, site: string, priorWeight: number): number {
    const g = e.global;
    const gn = g.successes + g.blocked + g.proxyFailures;
    const prior = (g.successes + 1) / (gn + 2);
    const s = e.sites.get(site);
    const sn = s ? s.successes + s.blocked + s.proxyFailures : 0;
    return ((s?.successes ?? 0) + priorWeight * prior) / (sn + priorWeight);
}

/** The availability-relevant fields of a proxy's records on a site: a change of any bumps the entry's version. */
export function sameAvailability(e: HealthEntry, s: HealthRecord, k: readonly number[]): boolean {
    const g = e.global;
    return (
        k[0] === (g.backoffUntil ?? 0) &&
        k[1] === (g.probing ? 1 : 0) &&
        k[2] === (s.backoffUntil ?? 0) &&
        k[3] === (s.probing ? 1 : 0) + (s.banned ? 2 : 0) &&
        k[4] === (s.pacedUntil ?? 0) &&
        k[5] === e.probesInFlight.size
    );
}

export function availabilityKey(e: HealthEntry, s: HealthRecord, into: number[]): number[] {
    const g = e.global;
    into[0] = g.backoffUntil ?? 0;
    into[1] = g.probing ? 1 : 0;
    into[2] = s.backoffUntil ?? 0;
    into[3] = (s.probing ? 1 : 0) + (s.banned ? 2 : 0);
    into[4] = s.pacedUntil ?? 0;
    into[5] = e.probesInFlight.size;
    return into;
}

export class Handle implements HealthHandle {
    private rec: HealthRecord | undefined;
    private generation = -1;

    constructor(
        private readonly e: HealthEntry,
        private readonly site: string,
    ) {}
    get version(): number {
        return this.e.version;
    }
    /** The site record, cached once it exists (records are only replaced by a restore, which bumps the generation). */
    private siteRecord(): HealthRecord | undefined {
        if (this.generation !== this.e.generation) {
            this.generation = this.e.generation;
            this.rec = undefined;
        }
        return (this.rec ??= this.e.sites.get(this.site));
    }
    availability(now: number): ProxyAvailability {
        return availabilityOf(this.e, this.site, now);
    }
    usableAt(): number | undefined {
        const s = this.e.sites.get(this.site);
        if (s?.banned) return undefined;
        return Math.max(this.e.global.backoffUntil ?? 0, s?.backoffUntil ?? 0);
    }
    pacedUntil(): number {
        return this.e.sites.get(this.site)?.pacedUntil ?? 0;
    }
    score(): number {
        const g = this.e.global;
        const prior = (g.successes + 1) / (g.successes + g.blocked + g.proxyFailures + 2);
        const s = this.siteRecord();
        if (!s) return prior;
        return (s.successes + 2 * prior) / (s.successes + s.blocked + s.proxyFailures + 2);
    }
    trials(): number {
        const s = this.siteRecord();
        return s ? s.successes + s.blocked + s.proxyFailures : 0;
    }
    stalled(now: number): boolean {
        const a = this.availability(now);
        if (a === 'banned') return true;
        if (a !== 'backoff') return false;
        const s = this.e.sites.get(this.site);
        return this.e.global.backoffs >= 2 || (s?.backoffs ?? 0) >= 2;
    }
}

