/**
 * The learner's choices for the scheduler, as pure functions over the candidates it hands in:
 *
 * - which proxy a new session gets: Thompson sampling over the usable proxies (a draw from each one's posterior on
 *   the site), divided by the sessions already on it, the one used longest ago among the near-best, cheapest tier
 *   allowed first;
 * - which ready session to hand out: the least recently used of those whose proxy draws near the best;
 * - whether to create a session at all: only when demand needs one (every usable session is busy, cooling or paced,
 *   and a usable proxy has none of this pool's sessions), with the pool size as a ceiling and no pre-fill.
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

/** A session ready to be handed out. */
export interface SessionOption {
    proxyId: string;
    /** Order of its last hand-out (lower = longer ago). */
    handOutSeq: number;
}

/**
 * Picks among ready sessions: of those whose proxy draws within `spread` of the best draw (one draw per proxy), the
 * one handed out longest ago, so load spreads over the good proxies (rate limits, wear) instead of piling on one.
 */
export function chooseSession<T extends SessionOption>(sessions: readonly T[], draw: HealthDraw, spread = 0.85): T | undefined {
    const draws = new Map<string, number>();
    let top = -1;
    for (const s of sessions) {
        if (draws.has(s.proxyId)) continue;
        const d = draw(s.proxyId);
        draws.set(s.proxyId, d);
        if (d > top) top = d;
    }
    let best: T | undefined;
    for (const s of sessions) {
        if (draws.get(s.proxyId)! < spread * top) continue;
        if (best === undefined || s.handOutSeq < best.handOutSeq) best = s;
    }
    return best;
}

/** What demand-driven pool size looks at. */
export interface DemandInput {
    /** Live sessions of the pool (busy, cooling, paced or ready). */
    live: number;
    /** Sessions that could be handed out right now. */
    ready: number;
    /** Sessions being created (init running). */
    creating: number;
    /** Usable proxies (not in backoff) with no live session of this pool. */
    freeProxies: number;
    /** The pool's size: a ceiling. */
    ceiling: number;
    /** A dynamic proxy configuration: every new session gets its own URL, so "free proxies" are unbounded. */
    dynamic: boolean;
}

/**
 * Whether an acquire that found no ready session should create one: yes while under the ceiling and a usable proxy
 * has no session of the pool yet (so load spreads over idle proxies instead of waiting on cooling ones), or while the
 * pool holds no session at all. Never when a session is ready, and one creation at a time per waiting acquire.
 */
export function shouldCreate(input: DemandInput): boolean {
    if (input.ready > 0) return false;
    if (input.live + input.creating >= input.ceiling) return false;
    if (input.live + input.creating === 0) return true;
    return input.dynamic || input.freeProxies > input.creating;
}
