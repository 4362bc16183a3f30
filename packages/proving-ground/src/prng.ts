/**
 * Seeded randomness. Everything random in the proving ground comes from here, so the same seed and
 * scenario always give the same bans, dead proxies and challenged clients.
 *
 * Each purpose gets its own stream (`derive(seed, 'bans')`, `derive(seed, 'dead')`, ...), so
 * changing one option (say, the number of dead proxies) does not reshuffle the others.
 */

/** A function returning a float in [0, 1), like `Math.random`. */
export type Random = () => number;

/** mulberry32: a small, fast 32-bit PRNG, good enough for picking test fixtures. */
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

/** FNV-1a hash of a string to an unsigned 32-bit integer. */
export function hash32(text: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
}

/** An independent stream for one purpose, e.g. `derive(seed, 'bans')`. */
export function derive(seed: number, ...labels: (string | number)[]): Random {
    return mulberry32(hash32(`${seed >>> 0}/${labels.join('/')}`));
}

/** A single deterministic float in [0, 1) for (seed, labels). */
export function unit(seed: number, ...labels: (string | number)[]): number {
    return derive(seed, ...labels)();
}

/** Fisher-Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
}

/** Lower-case hex string of `bytes` random bytes. */
export function randomHex(random: Random, bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i++) out += Math.floor(random() * 256).toString(16).padStart(2, '0');
    return out;
}
