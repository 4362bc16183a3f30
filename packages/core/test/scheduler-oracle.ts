/**
 * The slow reference for the scheduler's property tests: the full scan the manager did before the readiness index
 * (one pass over every session of the pool on every acquire), without its side effects. It answers what a pool
 * should do now: hand out which session, create one on which proxy, or wait.
 */
import type { LearnedHealth, ManagedSession, Pool } from '../src/index.js';
import { DIRECT_PROXY_ID } from '../src/index.js';

export type OracleDecision =
    | { kind: 'session'; candidates: ManagedSession[]; pick: ManagedSession | undefined }
    | { kind: 'create'; proxyId: string | undefined; evicts: boolean }
    | { kind: 'wait' };

const pid = (s: ManagedSession) => s.identity.proxy?.id ?? DIRECT_PROXY_ID;

/**
 * The old decision for `pool` at `now`. `pick` is the deterministic choice (round-robin, use-until-failure, scored
 * without exploration); for random picks it is undefined and `candidates` is the set to pick uniformly from.
 * `fixedProxies` are the configured proxy ids in order (undefined: dynamic).
 */
export function oracleDecide(pool: Pool, health: LearnedHealth, now: number, fixedProxies: readonly string[] | undefined): OracleDecision {
    const o = pool.options;
    const key = pool.key;
    const candidates: ManagedSession[] = [];
    let evictable = false;
    for (const s of pool.sessions.values()) {
        if (s.initializing) continue;
        const expired = s.expiresAt.getTime() <= now;
        const usedUp = s.usageCount + s.inUse >= o.maxUses;
        const errored = s.errorScore >= s.maxErrorScore;
        if (expired || usedUp || errored) continue;
        if (s.inUse >= o.maxConcurrentUses) continue;
        const a = health.availability(pid(s), key, now);
        if (a === 'banned' || a === 'probing') continue;
        const readyAt = Math.max(s.availableAt, health.learner.readyAt(pid(s), key, now));
        if (a === 'backoff') {
            // The index only evicts idle sessions that are not cooling down (a deliberate difference: see README).
            if (s.inUse === 0 && s.availableAt <= now) evictable = true;
            continue;
        }
        if (readyAt > now) continue;
        candidates.push(s);
    }
    // Idle sessions a scan would retire (expired, used up, on a banned proxy) leave room.
    const staying: ManagedSession[] = [];
    for (const s of pool.sessions.values()) {
        const idle = s.inUse === 0 && !s.initializing;
        const gone =
            idle &&
            (s.expiresAt.getTime() <= now ||
                s.usageCount >= o.maxUses ||
                s.errorScore >= s.maxErrorScore ||
                health.availability(pid(s), key, now) === 'banned');
        if (!gone) staying.push(s);
    }
    const occupancy = pool.pending + staying.length;
    const hasRoom = occupancy < o.size;
    const policy = pool.policy;
    if ((hasRoom || evictable) && (candidates.length === 0 || policy.preferNew(candidates.length > 0))) {
        if (!fixedProxies) return { kind: 'create', proxyId: undefined, evicts: !hasRoom };
        const usable = fixedProxies.filter((id) => health.availability(id, key, now) === 'usable' && health.learner.readyAt(id, key, now) <= now);
        if (usable.length > 0) {
            let best: string | undefined;
            // The learner's scored policy draws its scores (Thompson): only the turn-taking policies are predictable.
            if (policy.name === 'round-robin' || policy.name === 'use-until-failure') {
                let bestKey = Infinity;
                for (const id of usable) {
                    const k = pool.scheduler.slot(id).lastPickedSeq;
                    if (k < bestKey) {
                        bestKey = k;
                        best = id;
                    }
                }
            }
            return { kind: 'create', proxyId: best, evicts: !hasRoom };
        }
    }
    if (candidates.length === 0) return { kind: 'wait' };
    let pick: ManagedSession | undefined;
    const older = (a: ManagedSession, b: ManagedSession) => a.handOutSeq < b.handOutSeq;
    if (policy.name === 'round-robin') pick = candidates.reduce((b, s) => (older(s, b) ? s : b));
    else if (policy.name === 'use-until-failure') pick = candidates.reduce((b, s) => (s.handOutSeq > b.handOutSeq ? s : b));
    return { kind: 'session', candidates, pick };
}
