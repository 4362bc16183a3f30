/**
 * Tiers of a Crawlee `ProxyConfiguration({ tieredProxyUrls })`: tier 0 is the cheapest (Crawlee's own order). The
 * manager keeps every URL with its tier instead of flattening them, and the tier ladder decides per site which tier
 * new sessions take.
 */

/** The URLs of a tiered configuration with the tier of each (the first tier a URL appears in). */
export interface ProxyTiers {
    urls: (string | null)[];
    /** Tier per URL (`null`, a direct connection, under the key `''`). */
    tierOf: Map<string, number>;
    count: number;
}

/** Reads `tieredProxyUrls` off a ProxyConfiguration-like object; undefined when it has none. */
export function readTiers(configuration: { tieredProxyUrls?: (string | null)[][] } | undefined): ProxyTiers | undefined {
    const tiers = configuration?.tieredProxyUrls;
    if (!tiers?.length) return undefined;
    const tierOf = new Map<string, number>();
    const urls: (string | null)[] = [];
    tiers.forEach((tier, index) => {
        for (const url of tier) {
            const key = url ?? '';
            if (tierOf.has(key)) continue;
            tierOf.set(key, index);
            urls.push(url);
        }
    });
    return { urls, tierOf, count: tiers.length };
}
