import { CheerioCrawler, type CheerioCrawlerOptions, type CheerioCrawlingContext } from '@crawlee/cheerio';
import { Configuration, log, ProxyConfiguration } from '@crawlee/core';
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

/** Captures every line Crawlee's log (and so every child log, ours included) and the console print while `fn` runs. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
    const lines: string[] = [];
    const logger = log.getOptions().logger;
    const onLine = (line: unknown) => void lines.push(String(line));
    logger.on('line', onLine);
    const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
    const originals = methods.map((m) => console[m]);
    for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    try {
        const result = await fn();
        return { result, output: lines.join('\n') };
    } finally {
        logger.off('line', onLine);
        methods.forEach((m, i) => (console[m] = originals[i]!));
    }
}
