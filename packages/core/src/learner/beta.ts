/**
 * Sampling from a Beta distribution with a caller's random stream (seeded in tests and simulations), for Thompson
 * sampling: Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (Marsaglia and Tsang's method).
 *
 * A draw per pick is on the hot path: powers are products and a shape below 1 takes its boost U^(1/shape) as
 * exp(log(U) / shape) (`**` is a call costing about as much as the rest of a try; these are equal to it but for the
 * last bit). Each draw reads the stream as it always did (seeded runs keep their choices).
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
        return sampleGamma(shape + 1, random) * Math.exp(Math.log(u) / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (let i = 0; i < 1000; i++) {
        const x = normal(random);
        const t = 1 + c * x;
        if (t <= 0) continue;
        const v = t * t * t;
        const u = random();
        const x2 = x * x;
        if (u < 1 - 0.0331 * x2 * x2 || Math.log(Math.max(u, Number.MIN_VALUE)) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
    return d; // the mean's neighbourhood; not reached in practice
}

/** A Beta(a, b) variate in [0, 1]; a, b > 0. */
export function sampleBeta(a: number, b: number, random: Random): number {
    const x = sampleGamma(a, random);
    const y = sampleGamma(b, random);
    return x + y === 0 ? a / (a + b) : x / (x + y);
}
