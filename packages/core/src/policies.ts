/**
 * Policies: how a pool picks among its usable sessions, whether it grows, and which proxy a new session gets.
 * Every method looks at the candidates it is given once: O(pool size) or O(proxies), never O(sessions ever made).
 */
import type { ProxyHealth } from './proxies.js';
import type { ManagedSession } from './session.js';

/** Names accepted by the `policy` option. */
export type PolicyName = 'scored' | 'random' | 'round-robin' | 'use-until-failure';

export const POLICY_NAMES: readonly PolicyName[] = ['scored', 'random', 'round-robin', 'use-until-failure'];

/** A proxy a new session could use, with how many live sessions of this pool already use it. */
export interface ProxyCandidate {
    /** Proxy id (`direct` for no proxy). */
    id: string;
    /** Live sessions of this pool on this proxy. */
    load: number;
    /** @internal Order of the last time this proxy got a session in this pool. */
    lastPickedSeq: number;
}

/** What a policy may consult. */
export interface PolicyContext {
    /** The pool key (the "site" proxy health is tracked for). */
    site: string;
    health: ProxyHealth;
    random: () => number;
    /** Chance of picking at random instead of by score (scored policy). */
    explorationRate: number;
    /** The score of a session's proxy on this site (cached per pass: sessions share proxies). */
    sessionScore(session: ManagedSession): number;
}

export interface SessionPolicy {
    readonly name: PolicyName;
    /** With room in the pool: create a new session rather than reuse one of `candidates`? */
    preferNew(candidates: readonly ManagedSession[], ctx: PolicyContext): boolean;
    /** Picks one of `candidates` (never empty). */
    pickSession(candidates: readonly ManagedSession[], ctx: PolicyContext): ManagedSession;
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
 * Default. Fills the pool first (like Crawlee), putting each new session on the proxy with the best record on this
 * site (global record as the prior), plus an exploration bonus for little-tried proxies and divided by the number of
 * sessions already on it, so load spreads in proportion to quality. Among existing sessions it prefers the best
 * proxy, least recently used first. With probability `explorationRate` it picks at random instead, so recovered
 * proxies get tried again.
 */
export const scoredPolicy: SessionPolicy = {
    name: 'scored',
    preferNew: () => true,
    pickSession(candidates, ctx) {
        if (candidates.length > 1 && ctx.random() < ctx.explorationRate) return randomOf(candidates, ctx.random);
        // Best proxy score first (rounded, so near-equal proxies tie); among ties, least recently handed out.
        let best = candidates[0]!;
        let bestScore = -1;
        for (const s of candidates) {
            const score = Math.round(ctx.sessionScore(s) * 1000);
            if (score > bestScore || (score === bestScore && s.handOutSeq < best.handOutSeq)) {
                best = s;
                bestScore = score;
            }
        }
        return best;
    },
    pickProxy(proxies, ctx) {
        if (proxies.length > 1 && ctx.random() < ctx.explorationRate) return randomOf(proxies, ctx.random);
        return minBy(proxies, (p) => {
            const trials = ctx.health.trials(p.id, ctx.site);
            const value = (ctx.health.score(p.id, ctx.site) + 0.3 / Math.sqrt(1 + trials)) / (1 + p.load);
            return -value * 1e6 + p.lastPickedSeq * 1e-9;
        });
    },
};

/** Any usable session, any usable proxy, uniformly at random (Crawlee's own behaviour). */
export const randomPolicy: SessionPolicy = {
    name: 'random',
    preferNew: () => true,
    pickSession: (candidates, ctx) => randomOf(candidates, ctx.random),
    pickProxy: (proxies, ctx) => randomOf(proxies, ctx.random),
};

/** Sessions in turn (the one handed out longest ago first), proxies in turn. */
export const roundRobinPolicy: SessionPolicy = {
    name: 'round-robin',
    preferNew: () => true,
    pickSession: (candidates) => minBy(candidates, (s) => s.handOutSeq),
    pickProxy: (proxies) => minBy(proxies, (p) => p.lastPickedSeq),
};

/** Keeps using the same session until it fails or hits a limit; only then creates another (proxies in turn). */
export const useUntilFailurePolicy: SessionPolicy = {
    name: 'use-until-failure',
    preferNew: (candidates) => candidates.length === 0,
    pickSession: (candidates) => minBy(candidates, (s) => -s.handOutSeq),
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
