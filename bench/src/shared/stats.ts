/** Small statistics helpers. */

export function median(values: readonly number[]): number {
    if (values.length === 0) return Number.NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function mean(values: readonly number[]): number {
    if (values.length === 0) return Number.NaN;
    return values.reduce((a, b) => a + b, 0) / values.length;
}

export function sum(values: readonly number[]): number {
    return values.reduce((a, b) => a + b, 0);
}

/** `a / b`, or NaN when `b` is 0 (printed as "n/a"). */
export function ratio(a: number, b: number): number {
    return b === 0 ? (a === 0 ? 1 : Number.POSITIVE_INFINITY) : a / b;
}

/** Forces a full garbage collection when node runs with --expose-gc; returns whether it could. */
export function collectGarbage(): boolean {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return false;
    gc();
    gc();
    return true;
}
