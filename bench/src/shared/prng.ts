/**
 * Seeded randomness for every benchmark. Everything random in a run comes from a seed that is printed with its
 * results, so any number in BENCHMARKS.md can be reproduced.
 */

/** A float in [0, 1), like `Math.random`. */
export type Random = () => number;

/** mulberry32: small, fast, good enough for simulations (the proving ground uses the same generator). */
export function mulberry32(seed: number): Random {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** FNV-1a hash of a string. */
function hash32(text: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
}

/** An independent stream for one purpose: `derive(seed, 'world', 'bans')`. */
export function derive(seed: number, ...labels: (string | number)[]): Random {
    return mulberry32(hash32(`${seed >>> 0}/${labels.join('/')}`));
}

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
