/**
 * One crawl of the browser-overhead part, stock or sessionpack: run in a child process of its own (see child.ts), so
 * that its peak memory is its own and not the high-water mark of every crawl before it in the same process.
 */
import { Configuration, ProxyConfiguration } from '@crawlee/core';
import { PlaywrightCrawler } from '@crawlee/playwright';
import { PuppeteerCrawler } from '@crawlee/puppeteer';
import { chromiumLaunchArgs, hostOperatingSystem, resolveChromiumPath } from '@sessionpack/browser';
import type { SessionManagerOptions } from '@sessionpack/core';
import { withSessions as withPlaywrightSessions } from '@sessionpack/playwright';
import { withSessions as withPuppeteerSessions } from '@sessionpack/puppeteer';
import type { Page as PlaywrightPage } from 'playwright';
import type { Page as PuppeteerPage } from 'puppeteer';

import { derive } from '../shared/prng.js';

/** Pages in flight per crawler, fixed (minConcurrency = maxConcurrency) for both variants. */
export const CONCURRENCY = 3;

/** What the parent asks a child to crawl. */
export interface CrawlJob {
    browser: BrowserName;
    variant: Variant;
    /** The proving ground's proxies to use (the same for both variants). */
    proxyUrls: string[];
    urls: string[];
    /** Base seed: sessionpack's manager draws from a stream derived from it. */
    seed: number;
    /**
     * The one screen size both variants' fingerprints are drawn with in this run (the pair's stock and sessionpack
     * crawls get the same): stock through `fingerprintOptions.fingerprintGeneratorOptions` (Crawlee's own defaults plus
     * this screen), sessionpack through `fingerprintGeneratorOptions.screen`. None: each draws its own screens.
     */
    screen?: { width: number; height: number };
}

export type BrowserName = 'playwright' | 'puppeteer';

/**
 * `stock`, `sessionpack` (its defaults), or another name: a name starting with `stock` is stock Crawlee, any other is
 * sessionpack, with what `BENCH_BROWSER_<NAME>_ARGS` and `BENCH_BROWSER_<NAME>_OPTIONS` give it (see
 * {@link variantSettings}).
 */
export type Variant = string;

/** Whether a variant is stock Crawlee (its name starts with `stock`). */
export const isStock = (variant: Variant): boolean => variant.startsWith('stock');

/**
 * What a variant's crawl is launched with, from the environment (for trying variants against each other in one run;
 * recorded runs set none): `BENCH_BROWSER_<NAME>_ARGS`, space-separated Chromium flags (`<NAME>` the variant's name in
 * capitals, `-` as `_`: `BENCH_BROWSER_STOCK_ARGS`, `BENCH_BROWSER_SESSIONPACK_ARGS`...), and for sessionpack variants
 * `BENCH_BROWSER_<NAME>_OPTIONS`, a JSON object of the adapter's browser options (`{"maxKeptTabs":3}`).
 */
export function variantSettings(variant: Variant, env: NodeJS.ProcessEnv = process.env): { args: string[]; options: Record<string, unknown> } {
    const prefix = `BENCH_BROWSER_${variant.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const args = env[`${prefix}_ARGS`]?.split(' ').filter(Boolean) ?? [];
    const json = env[`${prefix}_OPTIONS`];
    if (json && isStock(variant)) throw new Error(`${prefix}_OPTIONS: stock takes no sessionpack options`);
    const options = json ? (JSON.parse(json) as Record<string, unknown>) : {};
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new Error(`${prefix}_OPTIONS must be a JSON object, got ${json}`);
    return { args, options };
}

/** What one crawl measured itself (its peak memory is measured from outside, by the parent). */
export interface CrawlRow {
    crawler: string;
    variant: Variant;
    /** Pages handled (the request handler ran on them). */
    pages: number;
    /** Of those, pages where the handler found the price. */
    extracted: number;
    /** Requests that reached failedRequestHandler. */
    failed: number;
    /** Pages crawled per wall-clock minute (the median of the runs, in the table). */
    pagesPerMinute: number;
    /** Pages per minute of each run. */
    runsPagesPerMinute?: number[];
    /** Distinct browser contexts the crawled pages were in. */
    contexts: number;
    /** Distinct sessions the crawled pages were made with. */
    sessions: number;
    /** Pages whose session had been in another context before (its context was closed as idle, then recreated). */
    recreations: number;
    /**
     * Mean rendered area per page in megapixels (viewport width x height x device scale factor, as the page was
     * crawled): what Chromium lays out, rasterizes and composites. Stock gives every page of a browser the one
     * fingerprint the browser was launched with, sessionpack each session its own, so this moves with the draws.
     */
    megapixels: number;
}


export async function crawl({ browser, variant, proxyUrls, urls, seed, screen }: CrawlJob): Promise<CrawlRow> {
    const config = new Configuration({ persistStorage: false });
    const contexts = new Set<object>();
    const sessions = new Set<string>();
    const contextOfSession = new Map<string, object>();
    let recreations = 0;
    let extracted = 0;
    let handled = 0;
    let pixels = 0;
    let failed = 0;
    const contextOf = (page: PlaywrightPage | PuppeteerPage): object =>
        browser === 'playwright' ? (page as PlaywrightPage).context() : (page as PuppeteerPage).browserContext();
    const crawlerOptions = {
        minConcurrency: CONCURRENCY,
        maxConcurrency: CONCURRENCY,
        maxRequestRetries: 3,
        requestHandler: async ({ page, session }: { page: PlaywrightPage & PuppeteerPage; session?: { id: string } }) => {
            const context = contextOf(page);
            contexts.add(context);
            if (session) {
                sessions.add(session.id);
                const before = contextOfSession.get(session.id);
                if (before && before !== context) recreations++;
                contextOfSession.set(session.id, context);
            }
            pixels += await renderedPixels(page);
            // The page is rendered and readable (every product page of the benign shop has a price).
            if (await page.$('.price')) extracted++;
            handled++;
        },
        failedRequestHandler: async () => void failed++,
    };
    const settings = variantSettings(variant);
    const launchOptions = { executablePath: resolveChromiumPath(), args: chromiumLaunchArgs(settings.args, { noSandboxAsRoot: browser === 'puppeteer' }) };
    const Crawler = (browser === 'playwright' ? PlaywrightCrawler : PuppeteerCrawler) as unknown as new (options: object, config: Configuration) => {
        run(urls: string[]): Promise<unknown>;
    };
    const screenLimits = screen && { minWidth: screen.width, maxWidth: screen.width, minHeight: screen.height, maxHeight: screen.height };
    let crawler: { run(urls: string[]): Promise<unknown> };
    if (!isStock(variant)) {
        // Session options, not a manager opened here: the adapter opens it with the identities it gives by default
        // (Crawlee's own default fingerprint options, see withChromiumIdentities()), as a user following the README gets.
        // The crawler owns that manager and closes it at the end of its run.
        const sessionOptions: SessionManagerOptions = {
            proxyUrls: proxyUrls,
            store: false,
            statsIntervalSecs: 0,
            random: derive(seed, 'browser-overhead', browser),
            config,
        };
        const withSessions = (browser === 'playwright' ? withPlaywrightSessions : withPuppeteerSessions) as (
            options: object,
            sessions: SessionManagerOptions,
            browserOptions: object,
        ) => object;
        const browserOptions = { ...settings.options, ...(screenLimits ? { fingerprintGeneratorOptions: { screen: screenLimits } } : {}) };
        crawler = new Crawler(withSessions({ ...crawlerOptions, launchContext: { launchOptions } }, sessionOptions, browserOptions), config);
    } else {
        crawler = new Crawler(
            {
                ...crawlerOptions,
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: proxyUrls }),
                launchContext: { useIncognitoPages: true, launchOptions },
                // Crawlee's own default fingerprint options (getGeneratorDefaultOptions() in @crawlee/browser-pool), which
                // any options given replace as a whole, plus the run's screen.
                ...(screenLimits
                    ? {
                          browserPoolOptions: {
                              fingerprintOptions: {
                                  fingerprintGeneratorOptions: {
                                      devices: ['desktop'],
                                      locales: ['en-US'],
                                      browsers: ['chrome'],
                                      operatingSystems: [hostOperatingSystem()],
                                      screen: screenLimits,
                                  },
                              },
                          },
                      }
                    : {}),
            },
            config,
        );
    }
    const started = Date.now();
    await crawler.run(urls);
    const seconds = (Date.now() - started) / 1000;
    return {
        crawler: browser === 'playwright' ? 'PlaywrightCrawler' : 'PuppeteerCrawler',
        variant,
        pages: handled,
        extracted,
        failed,
        pagesPerMinute: (handled / seconds) * 60,
        contexts: contexts.size,
        sessions: sessions.size,
        recreations,
        megapixels: handled ? pixels / handled / 1e6 : 0,
    };

    async function renderedPixels(page: PlaywrightPage | PuppeteerPage): Promise<number> {
        if (browser === 'playwright') {
            // Playwright emulates the viewport at a device scale factor of 1 (neither variant sets one).
            const size = (page as PlaywrightPage).viewportSize();
            return size ? size.width * size.height : 0;
        }
        // Puppeteer's own viewport() does not see the metrics fingerprint-injector sets over its own CDP session (both
        // variants): the page's layout viewport and scale factor do.
        const [width, height, scale] = await (page as PuppeteerPage).evaluate(() => [window.innerWidth, window.innerHeight, window.devicePixelRatio]);
        return width! * height! * scale! ** 2;
    }
}
