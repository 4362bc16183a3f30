/**
 * Through a gateway (a dynamic ProxyConfiguration) every new session id is a draw: it leaves through an exit nobody can
 * see, and its first use says whether that exit serves. When draws keep failing (their first use blocked or
 * rate-limited: exits banned, burnt or under another id's Retry-After), drawing more at once only buys more failures
 * (each costs a wasted response); most of what makes exits bad at such a moment passes within seconds (a Retry-After,
 * a burn's recovery). So after a failed draw the pool waits before drawing again, on sessions it has, for a hold that
 * doubles with each failed draw in a row and halves back with each draw that served. A 429 of any session holds draws
 * for its Retry-After as well: its exit is one of few, and a new id landing there would restart its penalty. A URL
 * kept for reuse is not a draw (its exit is known) and is never held.
 *
 * Crowding: when an exit burns, every live id on it is blocked at its next use, so a burn costs about one wasted
 * response per id on that exit, and a pool of ids as large as the gateway's set of exits crowds them (several ids per
 * exit). Nobody sees the exits, but two ids that had served and are blocked within a few seconds of each other, after
 * disagreeing numbers of good uses, are most likely one exit burning under both: each such pair shrinks the number of
 * live ids the pool keeps (a fifth per pair, never below half the pool's size; fewer ids, each used more often under
 * its learned pace). The evidence fades (half-life two minutes): through a gateway with many exits burns stay lone and
 * the pool keeps its size.
 */
import type { OutcomeEffect } from './health-model.js';
import { BURST_MILLIS, DEFAULT_CAP_OPTIONS } from './learner/cap.js';

/** How long new session ids are held after failed draws. */
export interface DrawHold {
    /** The hold after one failed draw, in milliseconds (doubling with each failed draw in a row). */
    baseMillis: number;
    /** The longest hold, in milliseconds. */
    maxMillis: number;
}

export const DEFAULT_DRAW_HOLD: DrawHold = { baseMillis: 500, maxMillis: 8_000 };

/** Good-use counts agree when the larger is at most this times the smaller (learner/cap.ts's default spread). */
const AGREEING = DEFAULT_CAP_OPTIONS.maxSpread;
/** Half-life of the crowding evidence, in milliseconds. */
const CROWDING_HALF_LIFE_MILLIS = 120_000;
/** The live ids kept shrink by this factor per unit of crowding. */
const CROWDING_FACTOR = 0.8;

/**
 * A draw's first use failed on these: the site refused its exit (banned, burnt, under a Retry-After). A proxy failure
 * is the gateway's own (every id fails alike; bounded per acquire elsewhere) and judges nothing.
 */
const FAILED: ReadonlySet<OutcomeEffect> = new Set(['blocked', 'rate-limited']);

/** One per pool with a dynamic ProxyConfiguration; see the module comment. */
export class DrawGuard {
    /** Proxy ids (one per drawn URL) whose first use has not been judged yet. */
    private readonly unjudged = new Set<string>();
    /** Live drawn ids whose first use served, by proxy id: their good uses (a later block of one is its exit burning). */
    private readonly served = new Map<string, number>();
    private level = 0;
    private lastBurnAt = Number.NEGATIVE_INFINITY;
    private lastBurnUses = 0;
    /** Crowding evidence (see the module comment) as of `crowdingAt`. */
    private crowding = 0;
    private crowdingAt = 0;
    /** No new session id before this (epoch millis). */
    heldUntil = 0;

    constructor(private readonly options: DrawHold = DEFAULT_DRAW_HOLD) {}

    /** A new session id was drawn; its URL's proxy id is `proxyId`. */
    drew(proxyId: string): void {
        this.unjudged.add(proxyId);
    }

    /** A session on `proxyId` left the pool: a draw never used is not judged. */
    forget(proxyId: string): void {
        if (this.unjudged.size > 0) this.unjudged.delete(proxyId);
        if (this.served.size > 0) this.served.delete(proxyId);
    }

    /** How many live session ids the pool keeps, of at most `size` (see the module comment). */
    limit(size: number, now: number): number {
        if (this.crowding === 0) return size;
        const crowding = this.crowdingAt === now ? this.crowding : this.crowding * 0.5 ** ((now - this.crowdingAt) / CROWDING_HALF_LIFE_MILLIS);
        return Math.max(Math.ceil(size / 2), Math.round(size * CROWDING_FACTOR ** crowding));
    }

    /**
     * An id that had served `uses` times was blocked: its exit burnt, or it reached a per-session cap. A second one within
     * learner/cap.ts's {@link BURST_MILLIS} (blocks that far apart are one exit burning under both) at a disagreeing count says ids crowd exits (agreeing counts are sessions created together
     * reaching a cap together, as in learner/cap.ts).
     */
    private burnt(now: number, uses: number): void {
        if (now - this.lastBurnAt <= BURST_MILLIS && Math.max(uses, this.lastBurnUses) > AGREEING * Math.min(uses, this.lastBurnUses)) {
            this.crowding = this.crowding * 0.5 ** ((now - this.crowdingAt) / CROWDING_HALF_LIFE_MILLIS) + 1;
            this.crowdingAt = now;
        }
        this.lastBurnAt = now;
        this.lastBurnUses = uses;
    }

    /**
     * The outcome of a use on `proxyId`: the first one of a drawn id judges the draw. A 429 of any session (its exit, one
     * of few, is at its limit for `retryAfterMillis`) holds draws for that long too (at most the longest hold): a new id
     * drawn meanwhile may land on that exit and restart its penalty.
     */
    judge(proxyId: string, effect: OutcomeEffect, now: number, retryAfterMillis = 0): void {
        if (effect === 'rate-limited' && retryAfterMillis > 0) this.heldUntil = Math.max(this.heldUntil, now + Math.min(this.options.maxMillis, retryAfterMillis));
        if (this.served.size > 0) {
            const uses = this.served.get(proxyId);
            if (uses !== undefined && effect === 'success') this.served.set(proxyId, uses + 1);
            else if (uses !== undefined && effect === 'blocked') {
                this.served.delete(proxyId);
                this.burnt(now, uses);
            }
        }
        if (this.unjudged.size === 0 || effect === 'neutral' || effect === 'target-error' || effect === 'proxy-failure' || !this.unjudged.delete(proxyId)) return;
        if (!FAILED.has(effect)) {
            this.level = Math.max(0, this.level - 1);
            this.served.set(proxyId, 1);
            return;
        }
        const { baseMillis, maxMillis } = this.options;
        this.level++;
        this.heldUntil = Math.max(this.heldUntil, now + Math.min(maxMillis, baseMillis * 2 ** (this.level - 1)));
    }
}
