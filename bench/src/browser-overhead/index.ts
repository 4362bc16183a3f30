/**
 * Browser overhead (`pnpm bench browser-overhead`): what sessionpack costs a browser crawl on a site with no
 * defenses, side by side with stock in one run. The proving ground's `benign` scenario behind 6 good proxies,
 * PlaywrightCrawler and PuppeteerCrawler at a fixed concurrency, each stock (`useIncognitoPages`, Crawlee's own
 * session pool, the same 6 proxies) and with sessionpack (a context per session, one shared browser). Measured:
 * pages per minute, browser contexts that held pages (counted in the browser: distinct context objects of the
 * crawled pages), sessions used, and the peak resident memory of the whole process tree (Node, Chromium and its
 * children) while the crawl runs.
 */
import { execFile } from 'node:child_process';

import { Configuration, log as crawleeLog, LogLevel, ProxyConfiguration } from '@crawlee/core';
import { PlaywrightCrawler } from '@crawlee/playwright';
import { PuppeteerCrawler } from '@crawlee/puppeteer';
import { chromiumLaunchArgs, resolveChromiumPath } from '@sessionpack/browser';
import { SessionManager } from '@sessionpack/core';
import { withSessions as withPlaywrightSessions } from '@sessionpack/playwright';
import { startProvingGround, type ProvingGround } from '@sessionpack/proving-ground';
import { withSessions as withPuppeteerSessions } from '@sessionpack/puppeteer';
import type { Page as PlaywrightPage } from 'playwright';
import type { Page as PuppeteerPage } from 'puppeteer';

import { derive, withSeededMathRandom } from '../shared/prng.js';
import { median } from '../shared/stats.js';
import { fmt, type PartResult, type Table } from '../shared/table.js';

export interface BrowserOverheadOptions {
    smoke?: boolean;
    seed?: number;
    /** Pages per run (default 100; smoke 6). */
    pages?: number;
    /** Runs of each variant per crawler, alternating (default 2; smoke 1). */
    repeats?: number;
    /** Which browser crawlers (default both). */
    browsers?: BrowserName[];
    progress?: (line: string) => void;
}

type BrowserName = 'playwright' | 'puppeteer';

export interface BrowserOverheadRow {
    crawler: string;
    variant: 'stock' | 'sessionpack';
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
    /** Peak resident memory of the process tree during the run, MiB. */
    peakRssMiB: number;
    /**
     * Mean rendered area per page in megapixels (viewport width x height x device scale factor, as the page was
     * crawled): what Chromium lays out, rasterizes and composites. Stock gives every page of a browser the one
     * fingerprint the browser was launched with, sessionpack each session its own, so this moves with the draws.
     */
    megapixels: number;
}

export interface BrowserOverheadResult extends PartResult {
    rows: BrowserOverheadRow[];
}

/** Pages in flight per crawler, fixed (minConcurrency = maxConcurrency) for both variants. */
const CONCURRENCY = 3;
const PROXIES = 6;

/**
 * Resident memory (KiB) of this process and all its descendants but the sampling `ps` itself. Asynchronous: a
 * synchronous `ps` every 200 ms blocked the event loop the crawlers (and the proving ground) run on for about a third
 * of the run. The `ps` child is left out: between its fork and its exec it shows up as a copy of this process.
 */
function treeRssKiB(): Promise<number> {
    return new Promise((resolve, reject) => {
        const ps = execFile('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' }, (error, stdout) => {
            if (error) reject(error);
            else resolve(sumTree(stdout, ps.pid));
        });
    });
}

/** Sums the RSS column of `ps -eo pid=,ppid=,rss=` output over this process's tree, without `exclude`. */
function sumTree(psOutput: string, exclude: number | undefined): number {
    const rows = psOutput
        .split('\n')
        .map((line) => line.trim().split(/\s+/).map(Number))
        .filter((r) => r.length === 3 && r.every(Number.isFinite) && r[0] !== exclude);
    const children = new Map<number, number[][]>();
    for (const r of rows) children.set(r[1]!, [...(children.get(r[1]!) ?? []), r]);
    let total = rows.find((r) => r[0] === process.pid)?.[2] ?? 0;
    const stack = [process.pid];
    while (stack.length) {
        for (const child of children.get(stack.pop()!) ?? []) {
            total += child[2]!;
            stack.push(child[0]!);
        }
    }
    return total;
}

function envInt(name: string): number | undefined {
    const value = process.env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
    return n;
}

async function crawl(browser: BrowserName, variant: 'stock' | 'sessionpack', pg: ProvingGround, urls: string[], seed: number): Promise<BrowserOverheadRow> {
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
    const launchOptions = { executablePath: resolveChromiumPath(), args: chromiumLaunchArgs([], { noSandboxAsRoot: browser === 'puppeteer' }) };
    const Crawler = (browser === 'playwright' ? PlaywrightCrawler : PuppeteerCrawler) as unknown as new (options: object, config: Configuration) => {
        run(urls: string[]): Promise<unknown>;
    };
    let manager: SessionManager | undefined;
    let crawler: { run(urls: string[]): Promise<unknown> };
    if (variant === 'sessionpack') {
        manager = await SessionManager.open({
            proxyUrls: pg.proxyUrls.slice(0, PROXIES),
            store: false,
            statsIntervalSecs: 0,
            random: derive(seed, 'browser-overhead', browser),
            config,
        });
        const withSessions = (browser === 'playwright' ? withPlaywrightSessions : withPuppeteerSessions) as (options: object, manager: SessionManager) => object;
        crawler = new Crawler(withSessions({ ...crawlerOptions, launchContext: { launchOptions } }, manager), config);
    } else {
        crawler = new Crawler(
            {
                ...crawlerOptions,
                proxyConfiguration: new ProxyConfiguration({ proxyUrls: pg.proxyUrls.slice(0, PROXIES) }),
                launchContext: { useIncognitoPages: true, launchOptions },
            },
            config,
        );
    }
    let peak = await treeRssKiB();
    let sampling = false;
    const sampler = setInterval(() => {
        if (sampling) return;
        sampling = true;
        treeRssKiB()
            .then((kib) => void (peak = Math.max(peak, kib)))
            .catch(() => {})
            .finally(() => void (sampling = false));
    }, 200);
    const started = Date.now();
    try {
        await crawler.run(urls);
    } finally {
        clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    await manager?.close();
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
        peakRssMiB: peak / 1024,
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

export async function runBrowserOverhead(options: BrowserOverheadOptions = {}): Promise<BrowserOverheadResult> {
    const wallStart = Date.now();
    const smoke = options.smoke ?? false;
    const seed = options.seed ?? 1;
    // BENCH_BROWSER_REPEATS / BENCH_BROWSER_PAGES / BENCH_BROWSERS (comma-separated): for iterating; recorded runs use the defaults.
    const pages = options.pages ?? envInt('BENCH_BROWSER_PAGES') ?? (smoke ? 6 : 100);
    const repeats = options.repeats ?? envInt('BENCH_BROWSER_REPEATS') ?? (smoke ? 1 : 2);
    const browsers = options.browsers ?? (process.env.BENCH_BROWSERS?.split(',') as BrowserName[] | undefined) ?? ['playwright', 'puppeteer'];
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const previousLevel = crawleeLog.getLevel();
    crawleeLog.setLevel(LogLevel.OFF);
    const pg = await startProvingGround({ scenario: 'benign', seed, proxies: { count: PROXIES }, site: { categories: 20, productsPerCategory: 20 } });
    const rows: BrowserOverheadRow[] = [];
    try {
        let offset = 0;
        for (const browser of browsers) {
            const runs: Record<'stock' | 'sessionpack', BrowserOverheadRow[]> = { stock: [], sessionpack: [] };
            for (let r = 0; r < repeats; r++) {
                // Alternate which goes first, so a load change does not always hit the same variant.
                const order: ('stock' | 'sessionpack')[] = (r + (browser === 'playwright' ? 0 : 1)) % 2 === 0 ? ['stock', 'sessionpack'] : ['sessionpack', 'stock'];
                for (const variant of order) {
                    const urls = Array.from({ length: pages }, (_, i) => `${pg.siteUrl}/product/${((offset + i) % 400) + 1}`);
                    offset += pages;
                    const row = await withSeededMathRandom(derive(seed, 'browser-overhead', browser, variant, r), () => crawl(browser, variant, pg, urls, seed));
                    runs[variant].push(row);
                    progress(
                        `browser-overhead ${row.crawler} ${variant} run ${r + 1}: ${row.pages} pages (${row.failed} failed), ${fmt(row.pagesPerMinute, 0)} pages/min, ` +
                            `${row.contexts} contexts, ${row.sessions} sessions, ${row.recreations} recreations, peak RSS ${fmt(row.peakRssMiB, 0)} MiB, ${fmt(row.megapixels, 2)} Mpx per page`,
                    );
                }
            }
            for (const variant of ['stock', 'sessionpack'] as const) {
                const list = runs[variant];
                rows.push({
                    crawler: list[0]!.crawler,
                    variant,
                    pages: list.reduce((n, x) => n + x.pages, 0),
                    extracted: list.reduce((n, x) => n + x.extracted, 0),
                    failed: list.reduce((n, x) => n + x.failed, 0),
                    pagesPerMinute: median(list.map((x) => x.pagesPerMinute)),
                    runsPagesPerMinute: list.map((x) => x.pagesPerMinute),
                    contexts: Math.max(...list.map((x) => x.contexts)),
                    sessions: Math.max(...list.map((x) => x.sessions)),
                    recreations: Math.max(...list.map((x) => x.recreations)),
                    peakRssMiB: median(list.map((x) => x.peakRssMiB)),
                    megapixels: median(list.map((x) => x.megapixels)),
                });
            }
        }
    } finally {
        await pg.close();
        crawleeLog.setLevel(previousLevel);
    }
    const verdicts: string[] = [];
    for (const crawler of new Set(rows.map((r) => r.crawler))) {
        const stock = rows.find((r) => r.crawler === crawler && r.variant === 'stock');
        const ours = rows.find((r) => r.crawler === crawler && r.variant === 'sessionpack');
        if (!stock || !ours) continue;
        const speed = ours.pagesPerMinute / stock.pagesPerMinute;
        verdicts.push(`${crawler}: pages per minute ${fmt(speed, 2)}x stock's (bar: >= 1.00): ${speed >= 1 ? 'met' : 'MISSED'}.`);
        const contextsOk = ours.contexts <= ours.sessions + ours.recreations;
        verdicts.push(
            `${crawler}: ${ours.contexts} contexts for ${ours.sessions} sessions + ${ours.recreations} idle-bound recreations (stock: up to ${stock.contexts} for ${stock.pages / repeats} pages a run): ${contextsOk ? 'met' : 'MISSED'}.`,
        );
        const rss = ours.peakRssMiB / stock.peakRssMiB;
        verdicts.push(`${crawler}: peak RSS of the process tree ${fmt(ours.peakRssMiB, 0)} MiB vs stock's ${fmt(stock.peakRssMiB, 0)} MiB (${fmt(rss, 2)}x, bar: <= 1.00): ${rss <= 1 ? 'met' : 'MISSED'}.`);
    }
    const table: Table = {
        title:
            `Browser crawlers on a site with no defenses (proving ground "benign", ${PROXIES} good proxies), ${pages} pages per run, concurrency ${CONCURRENCY}, ` +
            `stock vs sessionpack in one run, ${repeats} alternating runs each (medians)`,
        columns: ['crawler', 'variant', 'pages', 'with price', 'failed', 'pages/min', 'runs (pages/min)', 'contexts', 'sessions', 'recreations', 'peak RSS (MiB)', 'Mpx per page'],
        rows: rows.map((r) => [
            r.crawler,
            r.variant,
            r.pages,
            r.extracted,
            r.failed,
            fmt(r.pagesPerMinute, 0),
            (r.runsPagesPerMinute ?? []).map((v) => fmt(v, 0)).join(' '),
            r.contexts,
            r.sessions,
            r.recreations,
            fmt(r.peakRssMiB, 0),
            fmt(r.megapixels, 2),
        ]),
        notes: [
            'Stock: useIncognitoPages (a new context per page; without it Crawlee sends every page through the first proxy), Crawlee\'s session pool, ' +
                `ProxyConfiguration with the same ${PROXIES} proxies. sessionpack: withSessions() at its defaults (pool of 20 sessions, maxIdleContexts 20), one shared browser.`,
            '"contexts", "sessions", "recreations": the most of any run; "contexts" are the distinct browser contexts the crawled pages were in, counted ' +
                'from the pages; "recreations": pages whose session had been in another context before. Peak RSS (median of the runs): the Node process ' +
                'and every descendant (Chromium, renderers), sampled every 200 ms (by an asynchronous `ps`, which does not hold up the crawl). ' +
                '"Mpx per page" (median of the runs): the mean rendered area of the crawled pages (viewport x device scale factor squared), ' +
                'which memory and speed follow; stock renders every page of a browser with the one fingerprint it was launched with.',
        ],
    };
    return { part: 'browser-overhead', seeds: [seed], seconds: (Date.now() - wallStart) / 1000, tables: [table], verdicts, rows };
}
