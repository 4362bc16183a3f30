import type { RateLimitOptions } from '../options.js';
import { DEFAULT_PENALTY_MS } from '../options.js';

interface Window {
    start: number;
    count: number;
    penaltyUntil: number;
}

/** The verdict of a rate limiter on one request. */
export type RateVerdict =
    | { limited: false }
    /** `duringPenalty`: the key was already penalised (the client ignored Retry-After); the penalty restarts. */
    | { limited: true; retryAfterSeconds: number; duringPenalty: boolean };

/**
 * Fixed-window rate limit per key (an IP or a session id). Past `requests` in a window the key is
 * penalised for `penaltyMs`: every request then gets 429 + Retry-After, and a request made during
 * the penalty restarts it. When the penalty ends, a fresh window starts.
 */
export class RateLimiter {
    private windows = new Map<string, Window>();
    private readonly penaltyMs: number;

    constructor(private readonly options: RateLimitOptions, private readonly now: () => number = Date.now) {
        this.penaltyMs = options.penaltyMs ?? DEFAULT_PENALTY_MS;
    }

    /** Is `key` under a penalty right now? (Does not count a request.) */
    isPenalised(key: string): boolean {
        return (this.windows.get(key)?.penaltyUntil ?? 0) > this.now();
    }

    /** Counts a request of `key` and says whether it is over the limit. */
    hit(key: string): RateVerdict {
        const now = this.now();
        let window = this.windows.get(key);
        if (!window) {
            window = { start: now, count: 0, penaltyUntil: 0 };
            this.windows.set(key, window);
        }
        if (now < window.penaltyUntil) {
            window.penaltyUntil = now + this.penaltyMs;
            window.start = window.penaltyUntil;
            window.count = 0;
            return { limited: true, retryAfterSeconds: this.retryAfter(), duringPenalty: true };
        }
        if (now - window.start >= this.options.windowMs) {
            window.start = now;
            window.count = 0;
        }
        window.count++;
        if (window.count > this.options.requests) {
            window.penaltyUntil = now + this.penaltyMs;
            window.start = window.penaltyUntil;
            window.count = 0;
            return { limited: true, retryAfterSeconds: this.retryAfter(), duringPenalty: false };
        }
        return { limited: false };
    }

    reset(): void {
        this.windows.clear();
    }

    private retryAfter(): number {
        return Math.max(1, Math.ceil(this.penaltyMs / 1000));
    }
}
