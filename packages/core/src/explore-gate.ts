/**
 * Whether a pool that grows on demand should put a new session on a proxy it has no session on yet, or wait for the
 * sessions it has. Both sides are counted in uses:
 *
 * - what a good new session would serve: one use now, then one every `g` (the longer of the pool's typical use
 *   duration, learned here, and the gap the site's pace puts between uses of a fresh proxy: after a first 429 the
 *   site's prior paces every proxy, so a new one serves once and then waits too), over a horizon `h`: the longer of
 *   the wait it saves and the crawl's age (a crawl that has run for t is as likely as not to run for t more). The wait
 *   `w` is until the soonest session this acquirer would get is ready: a paced, backed-off or cooling session at its
 *   time, a busy one when its use ends (a typical use from now), the acquirers already waiting served first;
 * - what finding one costs: the proxy's first use is blocked with chance `p` (1 - its posterior mean on the site: for
 *   a proxy never used, the site's first-use block rate, see `FadingHealth`); a blocked first use backs the proxy off,
 *   so finding one that serves takes `1 / (1 - p)` tries, `p / (1 - p)` blocked uses on average, each its own use
 *   plus {@link WASTE_PRICE}.
 *
 * A new proxy is explored when `1 + h / g >= (1 + WASTE_PRICE) * p / (1 - p)`. Mostly good fresh proxies, long waits
 * or old crawls explore; a short wait for a busy or paced session early in a crawl where fresh proxies are often
 * banned waits. Nothing to wait for (no session, none ready by time alone) or nothing measured yet (no use ended)
 * always explores.
 */

/**
 * What one blocked first use costs beyond the use it takes, in uses: 2, one for each cost a wait does not have. The
 * proxy, backed off, is probed again later, most likely into another block (a banned IP stays banned); and the site
 * saw a block, the one thing the crawl is there to avoid (the request's retry is the use a wait would make too). A
 * wait only delays. With it a pool still grows at once where fresh proxies serve 3 of 5 times (one busy session, a
 * young crawl: `2 (1 - p) >= 3 p`), and ever more readily as the wait or the crawl grows.
 */
export const WASTE_PRICE = 2;

/** How much of the typical use duration each new measure replaces (an exponential moving average). */
const USE_WEIGHT = 0.2;

/** What the gate reads of the proxy a new session would take (its health handle on the site). */
export interface ExploreTarget {
    /** Chance in [0, 1] that a use goes well (the posterior mean). */
    expected(now?: number): number;
    /** Milliseconds the site's pace puts between uses of it (0: not paced). */
    paceGapMillis(now: number): number;
}

import type { IndexedHeap } from './heap.js';
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';

/** An idle session not ready now: when it is, and the gap its proxy's pace puts between its uses (0: none). */
export interface HeldSession {
    at: number;
    gap: number;
}

/** What the pool can wait for: its idle sessions that are not ready now, its busy sessions, the acquirers ahead. */
export interface WaitView {
    /** Idle sessions held back only by their proxy (paced, backed off, banned): a new session then takes a new proxy. */
    held: number;
    /** Idle sessions that time will make ready (paced, backed off, cooling). */
    idle: HeldSession[];
    /** Sessions in use or starting. */
    busy: number;
    /** Acquirers already waiting on the pool (served before this one). */
    ahead: number;
}

/**
 * What a pool with no ready session can wait for (a scan of the slots with idle sessions and of the cooling ones: only
 * before a create). `withReady`: slots with idle sessions (none ready now, or the pool would hand one out);
 * `occupancy`: live sessions plus those being created; `ahead`: acquirers waiting.
 */
export function waitViewOf(
    withReady: readonly ProxySlot<ManagedSession>[],
    cooling: IndexedHeap<ManagedSession>,
    occupancy: number,
    ahead: number,
    now: number,
): WaitView {
    const idle: HeldSession[] = [];
    let held = 0;
    for (const slot of withReady) {
        if (slot.openPos >= 0) continue;
        held += slot.ready.size;
        const at = slot.wakeAt(now);
        if (at === undefined) continue;
        const gap = slot.health.paceGapMillis(now);
        for (let i = 0; i < slot.ready.size; i++) idle.push({ at, gap });
    }
    for (let i = 0; i < cooling.size; i++) {
        const s = cooling.at(i);
        idle.push({ at: s.availableAt, gap: s.proxySlot?.health.paceGapMillis(now) ?? 0 });
    }
    return { held, idle, busy: Math.max(0, occupancy - held - cooling.size), ahead };
}

/**
 * The wait of the next acquirer: sessions serve the acquirers ahead first, in the order they become ready; a session
 * that served is ready again a use later, or its pace's gap later when that is longer. Idle sessions are first ready
 * at their time, busy ones when their use ends (spread over a typical use from now). Each busy session's pace gap is
 * `busyGap`'s. Infinity when no session will become ready.
 */
export function expectedWaitMillis(view: WaitView, now: number, useMillis: number, busyGap = 0): number {
    const next: number[] = [];
    const period: number[] = [];
    for (const h of view.idle) {
        next.push(Math.max(now, h.at));
        period.push(Math.max(useMillis, h.gap));
    }
    for (let j = 0; j < view.busy; j++) {
        next.push(now + (useMillis * (j + 1)) / view.busy);
        period.push(Math.max(useMillis, busyGap));
    }
    if (next.length === 0) return Infinity;
    for (let k = view.ahead; ; k--) {
        let i = 0;
        for (let j = 1; j < next.length; j++) if (next[j]! < next[i]!) i = j;
        if (k === 0) return next[i]! - now;
        next[i]! += period[i]!;
    }
}

/** The pool's learned use duration and the rule above. */
export class ExploreGate {
    /** Typical duration of a use of this pool's sessions (NaN until one was measured). */
    private useMillis = Number.NaN;
    /** When the first measured use started (the crawl's age is counted from there). */
    private since = Number.NaN;
    /**
     * After {@link explores} said wait: when the wait it expected ends. The pool looks again then if no session came
     * (a use that takes longer than usual), so a held-back acquirer is never left waiting on a guess.
     */
    lookAgainAt = Infinity;

    /** A use that started at `startedAt` ended at `now` (a report). */
    used(startedAt: number, now: number): void {
        const millis = now - startedAt;
        if (!(millis >= 0) || !Number.isFinite(millis)) return;
        if (Number.isNaN(this.since)) this.since = startedAt;
        this.useMillis = Number.isNaN(this.useMillis) ? millis : this.useMillis + USE_WEIGHT * (millis - this.useMillis);
    }

    /** The typical use duration learned so far, in milliseconds (NaN: none measured). */
    get typicalUseMillis(): number {
        return this.useMillis;
    }

    /**
     * Whether to create a session on `target`, a proxy the pool has no session on (or any, when every session is busy),
     * rather than wait as `view` says (see the module comment).
     */
    explores(target: ExploreTarget, view: WaitView, now: number): boolean {
        const u = this.useMillis;
        if (Number.isNaN(u)) return true;
        const p = 1 - Math.min(1, Math.max(0, target.expected(now)));
        if (p === 0) return true;
        const use = Math.max(u, 1);
        const gap = Math.max(use, target.paceGapMillis(now));
        const wait = expectedWaitMillis(view, now, use, gap);
        if (wait === Infinity) return true;
        const horizon = Math.max(wait, now - this.since);
        this.lookAgainAt = now + Math.max(wait, 1);
        // (1 - p) * (1 + h / g) >= (1 + price) * p, without dividing by 1 - p (p may be 1).
        return (1 - p) * (gap + horizon) >= (1 + WASTE_PRICE) * p * gap;
    }
}
