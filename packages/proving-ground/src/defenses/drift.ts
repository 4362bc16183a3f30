import type { DriftOptions } from '../options.js';
import { unit } from '../prng.js';

interface Standing {
    banned: boolean;
    /** When the IP last changed state (or the start). */
    since: number;
    /** Requests since it was last good. */
    requests: number;
    /** Per-IP jitter factor for its thresholds. */
    factor: number;
}

/**
 * Whether an IP is banned right now: its ban from the start, then drift (good IPs get banned after
 * T requests or T ms; banned ones recover after T' ms). Time is checked lazily on every question,
 * so nothing runs in the background.
 */
export class IpStanding {
    private standings = new Map<string, Standing>();
    private startedAt: number;

    constructor(
        private readonly initialBans: ReadonlySet<string>,
        private readonly drift: DriftOptions | undefined,
        private readonly seed: number,
        private readonly now: () => number = Date.now,
    ) {
        this.startedAt = now();
    }

    /** Is `ip` banned at this moment? (Does not count a request.) */
    isBanned(ip: string): boolean {
        return this.advance(ip).banned;
    }

    /** Counts one request from `ip` toward drift, then answers whether it is banned. */
    countRequest(ip: string): boolean {
        const standing = this.advance(ip);
        if (!standing.banned) {
            standing.requests++;
            const limit = this.drift?.banAfterRequests;
            // The request that reaches the threshold is still served; the next one is banned.
            if (limit !== undefined && standing.requests >= Math.max(1, Math.round(limit * standing.factor))) {
                this.advanceTo(standing, true);
                return false;
            }
        }
        return standing.banned;
    }

    /** Back to the bans from the start, with the clock restarted. */
    reset(): void {
        this.standings.clear();
        this.startedAt = this.now();
    }

    private advance(ip: string): Standing {
        let standing = this.standings.get(ip);
        if (!standing) {
            const jitter = this.drift?.jitter ?? 0;
            const factor = 1 + jitter * (2 * unit(this.seed, 'drift', ip) - 1);
            standing = { banned: this.initialBans.has(ip), since: this.startedAt, requests: 0, factor };
            this.standings.set(ip, standing);
        }
        const drift = this.drift;
        if (!drift) return standing;
        // Time-based transitions; loop because a long pause can span several.
        for (let i = 0; i < 1000; i++) {
            const elapsed = this.now() - standing.since;
            if (standing.banned && drift.recoverAfterMs !== undefined && elapsed >= drift.recoverAfterMs * standing.factor) {
                this.advanceTo(standing, false, standing.since + drift.recoverAfterMs * standing.factor);
            } else if (!standing.banned && drift.banAfterMs !== undefined && elapsed >= drift.banAfterMs * standing.factor) {
                this.advanceTo(standing, true, standing.since + drift.banAfterMs * standing.factor);
            } else {
                break;
            }
        }
        return standing;
    }

    private advanceTo(standing: Standing, banned: boolean, at = this.now()): void {
        standing.banned = banned;
        standing.since = at;
        standing.requests = 0;
    }
}
