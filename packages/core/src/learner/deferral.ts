/**
 * Putting off re-probes after a failed one. When the probe of a proxy after its `level`-th backoff on a site fails, the
 * other proxies at that step of a backoff there (most likely under the same ban policy) are unlikely to have recovered
 * at that age either, so each one's probe waits until its own episode is as old as the failed proxy's will be at its
 * next probe: one proxy's probes learn for the others (on a farm whose bans last longer than the first backoff, most
 * second blocks are such probes).
 *
 * The bet is wrong where blocks are independent (a site that blocks 1 use in 10 at random: the failed probe says
 * nothing about the others), and unbounded it starves the pool. So it is bounded:
 * - at most half of the site's proxies (those judged there this run, the failed one included; at least one always
 *   left out) wait on a put-off probe at once; the rest keep their own schedule, as without deferrals;
 * - only deadlines move, by at most one escalation, never a level, never for a ban, never a probe already out;
 * - a put-off episode teaches no recovery time ({@link RecoveryTimes.onDeferred}).
 */
import type { BackoffRecord } from './backoff.js';
import type { RecoveryTimes } from './recovery.js';

/** Share of a site's proxies that may wait on a put-off probe at once. */
export const DEFERRED_SHARE = 0.5;

/** What the deferral reads and moves of the learner (its own maps, keyed `${proxyId}\u0000${site}`). */
export interface DeferralState {
    backoffs: Map<string, BackoffRecord>;
    probesOut: ReadonlySet<string>;
    recoveries: RecoveryTimes;
}

/** The failed probe: its record key, the site's key suffix, the level it failed at and its next deadline. */
export interface FailedProbe {
    key: string;
    suffix: string;
    level: number;
    until: number;
    /** Proxies judged on the site this run (see {@link FadingHealth.proxiesOn}). */
    proxiesOnSite: number;
}

/** Puts off the probes of the failed proxy's siblings (see the module comment). Returns the keys whose deadline moved. */
export function deferSiblings(state: DeferralState, failed: FailedProbe, now: number): string[] {
    const start = state.recoveries.startOf(failed.key);
    if (start === undefined) return [];
    let budget = Math.min(failed.proxiesOnSite - 1, Math.floor(failed.proxiesOnSite * DEFERRED_SHARE));
    const candidates: [string, number][] = [];
    for (const [k, r] of state.backoffs) {
        if (!k.endsWith(failed.suffix) || k === failed.key) continue;
        if (r.level > 0 && state.recoveries.wasDeferred(k)) budget--;
        else if (r.level === failed.level && !state.probesOut.has(k)) {
            const target = (state.recoveries.startOf(k) ?? -Infinity) + failed.until - start;
            if (target > now && target > (r.until ?? 0)) candidates.push([k, target]);
        }
    }
    const moved: string[] = [];
    for (const [k, target] of candidates) {
        if (budget-- <= 0) break;
        state.backoffs.set(k, { level: failed.level, until: target });
        state.recoveries.onDeferred(k);
        moved.push(k);
    }
    return moved;
}
