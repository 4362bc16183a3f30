/**
 * Policies: how a pool picks among its usable sessions, whether it grows, and which proxy a new session gets.
 * A policy never sees the pool: it gets a {@link Candidates} view of the pool's readiness index, so a pick costs
 * O(1) to O(number of proxies), never O(pool size).
 */
import { chooseProxy } from './learner/choice.js';
import type { ManagedSession } from './session.js';
import type { ProxyCandidate } from './slot.js';

/** Hand-out order of a pool's ready sessions: least recently handed out first, or most recently first. */
export type ReadyOrder = 'oldest-first' | 'newest-first';

/** Names accepted by the `policy` option. */
export type PolicyName = 'scored' | 'random' | 'round-robin' | 'use-until-failure';

export const POLICY_NAMES: readonly PolicyName[] = ['scored', 'random', 'round-robin', 'use-until-failure'];

/** What a policy may consult. */
export interface PolicyContext {
    /** The pool key (the "site" proxy health is tracked for). */
    site: string;
    random: () => number;
    /** Chance of picking at random instead of by score (scored policy). */
    explorationRate: number;
    /** The score of a proxy on this site (see `HealthHandle.score`). */
    proxyScore(proxyId: string): number;
    /** Judged uses of a proxy on this site. */
    proxyTrials(proxyId: string): number;
}

/** The usable sessions of a pool right now, as its readiness index sees them. */
export interface Candidates {
    /** How many sessions may be handed out now (≥ 1 when a policy is asked to pick). */
    readonly size: number;
    /** The `index`-th usable session (0 ≤ index < size) in no particular order: for uniform random picks. O(proxies). */
    at(index: number): ManagedSession;
    /**
     * The first usable session in the pool's order ({@link SessionPolicy.order}; ties: the older session). With
     * `byScore`, only among the sessions whose proxy has the best score on this site (rounded to 0.001). O(proxies).
     */
    first(byScore: boolean): ManagedSession;
    /**
     * Of the sessions whose proxy scores at least `fraction` of the best score, the first in the pool's order: load
     * spreads over the near-best proxies. O(proxies).
     */
    firstNear(fraction: number): ManagedSession;
}

export interface SessionPolicy {
    readonly name: PolicyName;
    /** How the pool orders its ready sessions for {@link Candidates.first}. */
    readonly order: ReadyOrder;
    /** Whether it asks for `first(true)` (best proxy score first): the pool keeps its index ranked that way. */
    readonly byScore: boolean;
    /** With room in the pool: create a new session rather than reuse one (`hasCandidates`: one could be reused)? */
    preferNew(hasCandidates: boolean): boolean;
    /**
     * Grow only on demand: with no session ready, create one only on a usable proxy that has none of the pool's
     * sessions yet (otherwise wait for the busy, cooling or paced ones).
     */
    readonly onDemand?: boolean;
    /**
     * Whether it picks by position ({@link Candidates.at}) at this exploration rate: then the ready sessions of a slot
     * sit in a heap whose positions are the draw's; otherwise only the first one counts (a cheaper queue keeps them).
     */
    picksAt(explorationRate: number): boolean;
    /** Picks one of `candidates` (never empty). */
    pickSession(candidates: Candidates, ctx: PolicyContext): ManagedSession;
    /** Picks the proxy of a new session among `proxies` (never empty, all usable). */
    pickProxy(proxies: readonly ProxyCandidate[], ctx: PolicyContext): ProxyCandidate;
}

function randomOf<T>(items: readonly T[], random: () => number): T {
    return items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
}

/** The item with the lowest `key` (ties: the first). */
function minBy<T>(items: readonly T[], key: (t: T) => number): T {
    let best = items[0]!;
    let bestKey = key(best);
    for (let i = 1; i < items.length; i++) {
        const k = key(items[i]!);
        if (k < bestKey) {
            best = items[i]!;
            bestKey = k;
        }
    }
    return best;
}

/**
 * Default: learned. Grows on demand (no pre-fill: a new session only when none is ready and a usable proxy has none
 * yet). Scores are Thompson draws from each proxy's faded posterior on the site (see `learner/health.ts`), drawn again
 * whenever the proxy's record changes, so exploration needs no extra randomness. A new session goes to the proxy with
 * the best draw per session already on it, the one used longest ago among the near-best; an existing session is the
 * one handed out longest ago among those on near-best proxies. With `explorationRate` above 0 it also picks at random
 * that often.
 */
export const scoredPolicy: SessionPolicy = {
    name: 'scored',
    // It picks with firstNear, which reads the scores itself: the index keeps slots in hand-out order, not by score.
    byScore: false,
    order: 'oldest-first',
    onDemand: true,
    preferNew: () => false,
    picksAt: (explorationRate) => explorationRate > 0,
    pickSession(candidates, ctx) {
        if (candidates.size > 1 && ctx.explorationRate > 0 && ctx.random() < ctx.explorationRate) {
            return candidates.at(Math.min(candidates.size - 1, Math.floor(ctx.random() * candidates.size)));
        }
        return candidates.firstNear(NEAR_BEST);
    },
    pickProxy(proxies, ctx) {
        if (proxies.length > 1 && ctx.explorationRate > 0 && ctx.random() < ctx.explorationRate) return randomOf(proxies, ctx.random);
        const options = proxies.map((p) => ({ ...p, lastUsedSeq: p.lastPickedSeq }));
        const id = chooseProxy(options, (pid) => ctx.proxyScore(pid), undefined, NEAR_BEST)!.id;
        return proxies.find((p) => p.id === id)!;
    },
};

/** Scores within this fraction of the best count as near-best (load spreads over them). */
const NEAR_BEST = 0.85;

/** Any usable session, any usable proxy, uniformly at random (Crawlee's own behaviour). */
export const randomPolicy: SessionPolicy = {
    name: 'random',
    byScore: false,
    order: 'oldest-first',
    preferNew: () => true,
    picksAt: () => true,
    pickSession: (candidates, ctx) => candidates.at(Math.min(candidates.size - 1, Math.floor(ctx.random() * candidates.size))),
    pickProxy: (proxies, ctx) => randomOf(proxies, ctx.random),
};

/** Sessions in turn (the one handed out longest ago first), proxies in turn. */
export const roundRobinPolicy: SessionPolicy = {
    name: 'round-robin',
    byScore: false,
    order: 'oldest-first',
    preferNew: () => true,
    picksAt: () => false,
    pickSession: (candidates) => candidates.first(false),
    pickProxy: (proxies) => minBy(proxies, (p) => p.lastPickedSeq),
};

/** Keeps using the same session until it fails or hits a limit; only then creates another (proxies in turn). */
export const useUntilFailurePolicy: SessionPolicy = {
    name: 'use-until-failure',
    byScore: false,
    order: 'newest-first',
    preferNew: (hasCandidates) => !hasCandidates,
    picksAt: () => false,
    pickSession: (candidates) => candidates.first(false),
    pickProxy: (proxies) => minBy(proxies, (p) => p.lastPickedSeq),
};

/** The policy object for a name. */
export function policyByName(name: PolicyName): SessionPolicy {
    switch (name) {
        case 'scored':
            return scoredPolicy;
        case 'random':
            return randomPolicy;
        case 'round-robin':
            return roundRobinPolicy;
        case 'use-until-failure':
            return useUntilFailurePolicy;
    }
}
