/**
 * Learned recovery time per site: how long a blocked proxy takes to be let back in. Each backoff episode of a
 * (proxy, site) runs from its first block to the served page that ends it; the proxy recovered somewhere between its
 * last block (a failed probe) and that page, and the midpoint, from the episode's start, is one estimate. Once two
 * were seen on a site, its first backoff is raised to about their median (a probe before the proxy recovers is one
 * more wasted request). A page served well after the probe was due (the policy preferred other proxies, the pool was
 * paused) measures us, not the site: the due time bounds it. Unbounded, a site that blocks at random (every first
 * probe passes, but late) raised its first backoff to minutes, which made the next probes later still. An episode whose probe was put off on another proxy's evidence (see `deferral.ts`) teaches
 * nothing: when it recovered is hidden by our own choice not to look, and counting its late probe would raise the
 * first backoff, which makes later deferrals longer still (a loop that ends with every proxy out for minutes). Nor
 * does the episode of a proxy that had never served the site: it is probed on a sparser schedule (see
 * `NEVER_SERVED_STEP`), so its midpoint would overstate the time burnt proxies take to recover.
 */
import type { ResolvedDecayingBackoff } from './backoff.js';

/** Estimates kept per site (the most recent). */
const KEEP = 8;

export class RecoveryTimes {
    /** Per (proxy, scope) key in backoff: when its episode began and when it was last blocked. */
    private readonly episodes = new Map<string, { start: number; lastBlocked: number; deferred?: true; neverServed?: true }>();
    /** Per site: recent estimates of the recovery time. */
    private readonly estimates = new Map<string, number[]>();

    /**
     * A block charged to `k`: a new episode unless one runs (`continues`: the backoff was already escalated).
     * `neverServed`: the proxy had no success on the site when the episode began (its episode gives no estimate).
     */
    onCharged(k: string, continues: boolean, now: number, neverServed = false): void {
        const episode = this.episodes.get(k);
        if (!continues || !episode) this.episodes.set(k, neverServed ? { start: now, lastBlocked: now, neverServed: true } : { start: now, lastBlocked: now });
        else episode.lastBlocked = now;
    }

    /** When the running backoff episode of `k` began (undefined: none runs). */
    startOf(k: string): number | undefined {
        return this.episodes.get(k)?.start;
    }

    /** The probe of `k` was put off on another proxy's evidence: its episode gives no estimate. */
    onDeferred(k: string): void {
        const episode = this.episodes.get(k);
        if (episode) episode.deferred = true;
    }

    /** Whether the running episode of `k` had its probe put off. */
    wasDeferred(k: string): boolean {
        return this.episodes.get(k)?.deferred === true;
    }

    /**
     * The backoff of `k` settled to nothing after a page served at `now`, its probe due at `dueAt`: one estimate for
     * `site` (none for `global`).
     */
    onRecovered(k: string, site: string | undefined, now: number, dueAt = now): void {
        const episode = this.episodes.get(k);
        this.episodes.delete(k);
        if (!episode || site === undefined || episode.deferred || episode.neverServed) return;
        const list = this.estimates.get(site) ?? [];
        const seen = Math.min(now, Math.max(dueAt, episode.lastBlocked));
        list.push((episode.lastBlocked + seen) / 2 - episode.start);
        if (list.length > KEEP) list.shift();
        this.estimates.set(site, list);
    }

    /** The backoff schedule on `site`: `configured`, with its base raised to the learned recovery time. */
    scheduleFor(site: string, configured: ResolvedDecayingBackoff): ResolvedDecayingBackoff {
        const list = this.estimates.get(site);
        if (!list || list.length < 2) return configured;
        const sorted = [...list].sort((a, b) => a - b);
        const median = sorted[Math.floor(sorted.length / 2)]!;
        const { baseMillis, maxMillis } = configured;
        return { ...configured, baseMillis: Math.min(maxMillis, Math.max(baseMillis, 1.1 * median)) };
    }
}
