import type { ChallengeOptions } from '../options.js';
import { derive, shuffled } from '../prng.js';

/**
 * Who gets an anti-bot interstitial on every request: clients whose user agent matches one of the
 * patterns, a seeded fraction of the farm's not-banned IPs, and the IPs named.
 */
export class ChallengePolicy {
    private readonly patterns: RegExp[];
    private readonly ips: Set<string>;

    constructor(options: ChallengeOptions | undefined, farmIps: readonly string[], initiallyBanned: ReadonlySet<string>, seed: number) {
        this.patterns = (options?.userAgents ?? []).map((p) => (typeof p === 'string' ? new RegExp(p, 'i') : p));
        const candidates = farmIps.filter((ip) => !initiallyBanned.has(ip));
        const picked = shuffled(candidates, derive(seed, 'challenge-ips')).slice(0, Math.round((options?.fraction ?? 0) * candidates.length));
        this.ips = new Set([...picked, ...(options?.ips ?? [])]);
    }

    /** IPs challenged whatever their user agent. */
    get challengedIps(): ReadonlySet<string> {
        return this.ips;
    }

    applies(ip: string, userAgent: string): boolean {
        return this.ips.has(ip) || this.patterns.some((p) => {
            p.lastIndex = 0;
            return p.test(userAgent);
        });
    }
}
