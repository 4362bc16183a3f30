/**
 * Sampling from a Beta distribution with a caller's random stream (seeded in tests and simulations), for Thompson
 * sampling: Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (Marsaglia and Tsang's method).
 */

/** A float in [0, 1), like `Math.random`. */
export type Random = () => number;

/** A standard normal variate (Box-Muller; one of the pair). */
function normal(random: Random): number {
    let u = 0;
    while (u <= Number.EPSILON) u = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, 1) variate; shape > 0. */
export function sampleGamma(shape: number, random: Random): number {
    if (shape < 1) {
        // Gamma(a) = Gamma(a + 1) * U^(1/a).
        let u = 0;
        while (u <= Number.EPSILON) u = random();
        return sampleGamma(shape + 1, random) * u ** (1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (let i = 0; i < 1000; i++) {
        const x = normal(random);
        const v = (1 + c * x) ** 3;
        if (v <= 0) continue;
        const u = random();
        if (u < 1 - 0.0331 * x ** 4 || Math.log(Math.max(u, Number.MIN_VALUE)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
    return d; // the mean's neighbourhood; not reached in practice
}

/** A Beta(a, b) variate in [0, 1]; a, b > 0. */
export function sampleBeta(a: number, b: number, random: Random): number {
    const x = sampleGamma(a, random);
    const y = sampleGamma(b, random);
    return x + y === 0 ? a / (a + b) : x / (x + y);
}
