/**
 * Seeded randomness for every benchmark. Everything random in a run comes from a seed that is printed with its
 * results, so any number in BENCHMARKS.md can be reproduced.
 */

// The proving ground's generator (mulberry32, streams derived per purpose): the same seed gives the same streams here.
import type { Random } from '@sessionpack/proving-ground';
export { derive, mulberry32, type Random } from '@sessionpack/proving-ground';

/**
 * Runs `fn` with `Math.random` replaced by a seeded stream, then puts the original back. Crawlee's `SessionPool` picks
 * sessions with `Math.random()` and offers no seed option: this is how its runs are made reproducible.
 */
export async function withSeededMathRandom<T>(random: Random, fn: () => Promise<T>): Promise<T> {
    const original = Math.random;
    Math.random = random;
    try {
        return await fn();
    } finally {
        Math.random = original;
    }
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
    return Math.min(n - 1, Math.floor(random() * n));
}
