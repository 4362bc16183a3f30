/**
 * The learner's choice of a proxy for a new session, as a pure function over the candidates the scheduler hands in:
 * Thompson sampling over the usable proxies (a draw from each one's posterior on the site), divided by the sessions
 * already on it, the one used longest ago among the near-best, cheapest tier allowed first. (Which ready session to
 * hand out and whether to create one are the scheduler's: `Candidates.firstNear`, `SessionPolicy.onDemand`.)
 */

/** A proxy a new session could take. */
export interface ProxyOption {
    id: string;
    /** Live sessions of this pool on it. */
    load: number;
    /** Its tier (0 = cheapest), with tiered proxies. */
    tier?: number;
    /** Order of its last use in this pool (lower = longer ago; 0 = never). */
    lastUsedSeq?: number;
}

/** Draws a proxy's health on the site (Thompson sampling); see `Learner.sample`. */
export type HealthDraw = (proxyId: string) => number;

/**
 * Picks the proxy of a new session: among the proxies whose posterior draw per unit of load comes within `spread` of
 * the best, the one used longest ago (wear spreads over the good proxies instead of burning one), from the ladder's
 * tier when given (a lower tier only when none of the tier is left).
 */
export function chooseProxy<T extends ProxyOption>(options: readonly T[], draw: HealthDraw, tier?: number, spread = 0.85): T | undefined {
    let pool: readonly T[] = options;
    if (tier !== undefined) {
        const exact = options.filter((o) => (o.tier ?? 0) === tier);
        pool = exact.length > 0 ? exact : options.filter((o) => (o.tier ?? 0) < tier);
        if (pool.length === 0) return undefined;
    }
    const values = pool.map((o) => draw(o.id) / (1 + o.load));
    const top = Math.max(...values);
    let best: T | undefined;
    pool.forEach((o, i) => {
        if (values[i]! < spread * top) return;
        if (best === undefined || (o.lastUsedSeq ?? 0) < (best.lastUsedSeq ?? 0)) best = o;
    });
    return best;
}
