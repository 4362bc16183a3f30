/**
 * Learned cap per pool: when sessions are consistently blocked after about N good uses (a site that gives a session
 * cookie N pages, then captchas), retire sessions once they had N good uses, before the block. The cap is the low end
 * of the largest cluster of agreeing observations ("good uses before the block" of sessions blamed for it): it needs
 * several of them within `maxSpread` of each other and a good share of all kept (blocks at random use counts, such as
 * a proxy burning, do not make a cap). It is bounded below (`minCap`), so one early block cannot shrink it to 1, and
 * observations expire, so it is re-learned.
 */

/** How the cap is learned (`learner.cap` option). */
export interface CapOptions {
    /** Observations (session blocks after good uses) needed before a cap is set. @default 3 */
    minObservations?: number;
    /** Observations kept (the most recent). @default 8 */
    keep?: number;
    /** Lowest cap ever learned. @default 5 */
    minCap?: number;
    /** Observations agree when the largest is at most this times the smallest. @default 1.15 */
    maxSpread?: number;
    /** Share of the kept observations the agreeing cluster must hold. @default 0.5 */
    minShare?: number;
    /** Observations older than this are dropped, in milliseconds. @default 1800000 (30 minutes) */
    forgetAfterMillis?: number;
}

export type ResolvedCapOptions = Required<CapOptions>;

export const DEFAULT_CAP_OPTIONS: ResolvedCapOptions = { minObservations: 3, keep: 8, minCap: 5, maxSpread: 1.15, minShare: 0.5, forgetAfterMillis: 1_800_000 };

/** One observation: a session was blocked after `uses` good uses. */
export interface CapObservation {
    uses: number;
    at: number;
    /** Through a gateway (the exit IP unknown and shared by other session ids). */
    shared?: boolean;
    /** Part of a burst of shared blocks at disagreeing use counts (an exit burning): no evidence of a cap. */
    burst?: boolean;
}

/**
 * Through a gateway, blocks of several session ids within this long of each other, after disagreeing numbers of good
 * uses, are one exit burning under all of them (its other session ids meet the ban at their next use), not a cap.
 * Agreeing ones count: sessions created together reach a per-session cap together.
 */
export const BURST_MILLIS = 5_000;

/** One per pool. */
export class CapLearner {
    private observations: CapObservation[] = [];
    private readonly options: ResolvedCapOptions;

    constructor(options: CapOptions = {}) {
        this.options = { ...DEFAULT_CAP_OPTIONS, ...options };
    }

    /**
     * A session blamed for its block after `goodUses` good uses; `shared`: through a gateway. Uses below `minCap` are not
     * about a cap; shared blocks in a burst at disagreeing counts (see {@link BURST_MILLIS}) are not either.
     */
    observe(goodUses: number, now: number, shared = false): void {
        if (goodUses < this.options.minCap) return;
        const o: CapObservation = { uses: goodUses, at: now };
        if (shared) {
            o.shared = true;
            const { maxSpread } = this.options;
            for (const p of this.observations) {
                if (!p.shared || now - p.at > BURST_MILLIS) continue;
                if (Math.max(p.uses, goodUses) > maxSpread * Math.min(p.uses, goodUses)) p.burst = o.burst = true;
            }
        }
        this.observations.push(o);
        if (this.observations.length > this.options.keep) this.observations.shift();
    }

    /**
     * The learned cap (retire a session once it has had this many good uses), or undefined while the observations are
     * too few or disagree.
     */
    cap(now: number): number | undefined {
        const { minObservations, minCap, maxSpread, minShare, forgetAfterMillis } = this.options;
        this.observations = this.observations.filter((o) => now - o.at < forgetAfterMillis);
        const uses: number[] = [];
        for (const o of this.observations) if (!o.burst) uses.push(o.uses);
        uses.sort((a, b) => a - b);
        const need = Math.max(minObservations, Math.ceil(minShare * uses.length));
        // Largest window [uses[i], maxSpread * uses[i]] (two pointers over the sorted list); ties: the lower one.
        let best: number | undefined;
        let bestSize = 0;
        for (let i = 0, j = 0; i < uses.length; i++) {
            j = Math.max(j, i);
            while (j + 1 < uses.length && uses[j + 1]! <= maxSpread * uses[i]!) j++;
            if (j - i + 1 > bestSize) {
                bestSize = j - i + 1;
                best = uses[i];
            }
        }
        if (best === undefined || bestSize < need) return undefined;
        return Math.max(minCap, best);
    }

    /** What is stored: the observations that count (as `{ uses, at }`; bursts are left out). */
    toJSON(): CapObservation[] {
        const out: CapObservation[] = [];
        for (const o of this.observations) if (!o.burst) out.push({ uses: o.uses, at: o.at });
        return out;
    }

    restore(data: readonly CapObservation[]): void {
        this.observations = data.slice(-this.options.keep).map((o) => ({ uses: o.uses, at: o.at }));
    }
}
