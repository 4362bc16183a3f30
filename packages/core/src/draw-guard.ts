/**
 * Through a gateway (a dynamic ProxyConfiguration) every new session id is a draw: it leaves through an exit nobody can
 * see, and its first use says whether that exit serves. When draws keep failing (their first use blocked or
 * rate-limited: exits banned, burnt or under another id's Retry-After), drawing more at once only buys more failures
 * (each costs a wasted response); most of what makes exits bad at such a moment passes within seconds (a Retry-After,
 * a burn's recovery). So after a failed draw the pool waits before drawing again, on sessions it has, for a hold that
 * doubles with each failed draw in a row and halves back with each draw that served. A 429 of any session holds draws
 * for its Retry-After as well: its exit is one of few, and a new id landing there would restart its penalty. A URL
 * kept for reuse is not a draw (its exit is known) and is never held.
 */
import type { OutcomeEffect } from './health-model.js';

/** How long new session ids are held after failed draws. */
export interface DrawHold {
    /** The hold after one failed draw, in milliseconds (doubling with each failed draw in a row). */
    baseMillis: number;
    /** The longest hold, in milliseconds. */
    maxMillis: number;
}

export const DEFAULT_DRAW_HOLD: DrawHold = { baseMillis: 500, maxMillis: 8_000 };

/**
 * A draw's first use failed on these: the site refused its exit (banned, burnt, under a Retry-After). A proxy failure
 * is the gateway's own (every id fails alike; bounded per acquire elsewhere) and judges nothing.
 */
const FAILED: ReadonlySet<OutcomeEffect> = new Set(['blocked', 'rate-limited']);

/** One per pool with a dynamic ProxyConfiguration; see the module comment. */
export class DrawGuard {
    /** Proxy ids (one per drawn URL) whose first use has not been judged yet. */
    private readonly unjudged = new Set<string>();
    private level = 0;
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
    }

    /**
     * The outcome of a use on `proxyId`: the first one of a drawn id judges the draw. A 429 of any session (its exit, one
     * of few, is at its limit for `retryAfterMillis`) holds draws for that long too (at most the longest hold): a new id
     * drawn meanwhile may land on that exit and restart its penalty.
     */
    judge(proxyId: string, effect: OutcomeEffect, now: number, retryAfterMillis = 0): void {
        if (effect === 'rate-limited' && retryAfterMillis > 0) this.heldUntil = Math.max(this.heldUntil, now + Math.min(this.options.maxMillis, retryAfterMillis));
        if (this.unjudged.size === 0 || effect === 'neutral' || effect === 'target-error' || effect === 'proxy-failure' || !this.unjudged.delete(proxyId)) return;
        if (!FAILED.has(effect)) {
            this.level = Math.max(0, this.level - 1);
            return;
        }
        const { baseMillis, maxMillis } = this.options;
        this.level++;
        this.heldUntil = Math.max(this.heldUntil, now + Math.min(maxMillis, baseMillis * 2 ** (this.level - 1)));
    }
}
