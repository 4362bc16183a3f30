import { CheerioCrawler, type CheerioCrawlerOptions, type CheerioCrawlingContext } from '@crawlee/cheerio';
import { Configuration, ProxyConfiguration } from '@crawlee/core';
import type { RequestLogEntry } from '@sessionpack/proving-ground';

/** Every crawler in one process gets its own in-memory storage (a shared default queue finishes the second crawler at once). */
export const memoryConfig = () => new Configuration({ persistStorage: false, purgeOnStart: true });

export const BLOCK_KINDS = new Set(['forbidden', 'soft-block', 'challenge', 'captcha']);

/** Share of blocked answers among the requests the site received, skipping the first `warmUp` fraction. */
export function blockedShareAfterWarmUp(log: RequestLogEntry[], warmUp = 0.25): { share: number; requests: number; blocked: number } {
    const sorted = [...log].sort((a, b) => a.t - b.t);
    const rest = sorted.slice(Math.floor(sorted.length * warmUp));
    const blocked = rest.filter((e) => BLOCK_KINDS.has(e.kind)).length;
    return { share: rest.length ? blocked / rest.length : 0, requests: rest.length, blocked };
}

/** Stock Crawlee: CheerioCrawler with its own session pool and the same proxies, default settings, enough retries to finish. */
export function stockCrawler(proxyUrls: readonly string[], options: Partial<CheerioCrawlerOptions> = {}) {
    const handled: string[] = [];
    const crawler = new CheerioCrawler(
        {
            proxyConfiguration: new ProxyConfiguration({ proxyUrls: [...proxyUrls] }),
            maxRequestRetries: 10,
            maxConcurrency: 10,
            requestHandler: async ({ request }: CheerioCrawlingContext) => {
                handled.push(request.url);
            },
            ...options,
        },
        memoryConfig(),
    );
    return { crawler, handled };
}

/** Captures everything written to stdout/stderr while `fn` runs (Crawlee's log writes there). */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
    const chunks: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const grab = (chunk: unknown) => {
        chunks.push(String(chunk));
        return true;
    };
    process.stdout.write = grab as typeof process.stdout.write;
    process.stderr.write = grab as typeof process.stderr.write;
    try {
        const result = await fn();
        return { result, output: chunks.join('') };
    } finally {
        process.stdout.write = out;
        process.stderr.write = err;
    }
}
