/**
 * Browser overhead (`pnpm bench browser-overhead`): what sessionpack costs a browser crawl on a site with no
 * defenses, side by side with stock in one run. The proving ground's `benign` scenario behind 6 good proxies,
 * PlaywrightCrawler and PuppeteerCrawler at a fixed concurrency, each stock (`useIncognitoPages`, Crawlee's own
 * session pool, the same 6 proxies) and with sessionpack (a context per session, one shared browser). Measured:
 * pages per minute, browser contexts that held pages (counted in the browser: distinct context objects of the
 * crawled pages), sessions used, and the peak resident memory of the crawl's process tree (its Node process, Chromium
 * and its children) while the crawl runs. Each crawl runs in a child process of its own, so that its peak is its own:
 * in one shared process every crawl started from the heap the crawls before it had grown, and the proving ground's
 * memory was counted in it too.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { log as crawleeLog, LogLevel } from '@crawlee/core';
import { SessionFingerprints, withChromiumIdentities } from '@sessionpack/browser';
import { IdentityFactory } from '@sessionpack/core';
import { startProvingGround } from '@sessionpack/proving-ground';

import { derive, withSeededMathRandom } from '../shared/prng.js';
import { median } from '../shared/stats.js';
import { fmt, type PartResult, type Table } from '../shared/table.js';
import { CONCURRENCY, type BrowserName, type CrawlJob, type CrawlRow, type Variant, isStock, variantSettings } from './crawl.js';
import { samplePeak } from './process-tree.js';

export interface BrowserOverheadOptions {
    smoke?: boolean;
    seed?: number;
    /** Pages per run (default 100; smoke 6). */
    pages?: number;
    /** Runs of each variant per crawler, alternating (default 2; smoke 1). */
    repeats?: number;
    /** Which browser crawlers (default both). */
    browsers?: BrowserName[];
    /**
     * The variants, taking turns in each run (default `stock`, `sessionpack`; both must be there): other names are
     * stock (starting with `stock`) or sessionpack, with what `BENCH_BROWSER_<NAME>_ARGS` / `_OPTIONS` give them (see
     * `variantSettings()`); the bars compare every sessionpack variant with `stock`.
     */
    variants?: Variant[];
    /**
     * `paired` (default): each run draws one screen (seeded, from the fingerprints of the adapter's default identities,
     * desktop Chrome on this OS) and the run's stock and sessionpack crawls both draw their fingerprints with it.
     * `own`: each crawl draws its own screens, stock one per browser, sessionpack one per session.
     */
    screens?: 'paired' | 'own';
    progress?: (line: string) => void;
}

/** One crawl's row, with the peak memory its process tree reached. */
export interface BrowserOverheadRow extends CrawlRow {
    /** Peak resident memory of the crawl's process tree (its own Node process, Chromium and Chromium's children), MiB. */
    peakRssMiB: number;
    /** The most processes that tree had at once (each renderer adds its own copy of what is not shared). */
    processes: number;
    /** The peak's MiB by kind of process (node, browser, renderer, gpu-process, utility, zygote...). */
    peakByKindMiB?: Record<string, number>;
}

export interface BrowserOverheadResult extends PartResult {
    rows: BrowserOverheadRow[];
}

const PROXIES = 6;

function envInt(name: string): number | undefined {
    const value = process.env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
    return n;
}

/**
 * A screen a fingerprint of the adapters' default identities (desktop Chrome on this OS, what Crawlee's own
 * fingerprints default to) has, drawn with `random`.
 */
async function drawScreen(random: () => number): Promise<{ width: number; height: number }> {
    return withSeededMathRandom(random, async () => {
        const { headerGeneratorOptions } = withChromiumIdentities({}) as { headerGeneratorOptions: Record<string, unknown> };
        const identity = new IdentityFactory({ headerGeneratorOptions, variants: 1, random }).create(undefined);
        const { screen } = new SessionFingerprints().generate(identity).fingerprint;
        return { width: screen.width, height: screen.height };
    });
}

/** Runs one crawl in a child process of its own and samples the memory of that child's tree while it runs. */
function crawlInChild(job: CrawlJob, run: number): Promise<BrowserOverheadRow> {
    return new Promise((resolve, reject) => {
        const child = fork(fileURLToPath(new URL('./child.js', import.meta.url)), [JSON.stringify({ ...job, run })], {
            execArgv: ['--expose-gc'],
            stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        const sampler = samplePeak(child.pid!);
        let row: CrawlRow | undefined;
        child.once('message', (message) => void (row = message as CrawlRow));
        child.once('error', reject);
        child.once('exit', (code) => {
            void sampler.stop().then((peak) => {
                if (row && code === 0) {
                    const peakByKindMiB = Object.fromEntries(Object.entries(peak.byKind).map(([kind, kib]) => [`${kind} x${peak.countByKind[kind] ?? 0}`, Math.round(kib / 1024)]));
                    resolve({ ...row, peakRssMiB: peak.kib / 1024, processes: peak.processes, peakByKindMiB });
                }
                else reject(new Error(`browser-overhead: the ${job.browser} ${job.variant} crawl exited with code ${code} without its result`));
            });
        });
    });
}

export async function runBrowserOverhead(options: BrowserOverheadOptions = {}): Promise<BrowserOverheadResult> {
    const wallStart = Date.now();
    const smoke = options.smoke ?? false;
    const seed = options.seed ?? 1;
    // BENCH_BROWSER_REPEATS / BENCH_BROWSER_PAGES / BENCH_BROWSERS (comma-separated): for iterating; recorded runs use the defaults.
    const pages = options.pages ?? envInt('BENCH_BROWSER_PAGES') ?? (smoke ? 6 : 100);
    const repeats = options.repeats ?? envInt('BENCH_BROWSER_REPEATS') ?? (smoke ? 1 : 2);
    const browsers = options.browsers ?? (process.env.BENCH_BROWSERS?.split(',') as BrowserName[] | undefined) ?? ['playwright', 'puppeteer'];
    const screens = options.screens ?? (process.env.BENCH_BROWSER_SCREENS as 'paired' | 'own' | undefined) ?? 'paired';
    if (screens !== 'paired' && screens !== 'own') throw new Error(`BENCH_BROWSER_SCREENS must be "paired" or "own", got "${String(screens)}"`);
    // BENCH_BROWSER_VARIANTS (comma-separated): more sessionpack variants in the same run, for trying options and flags.
    const variants = options.variants ?? process.env.BENCH_BROWSER_VARIANTS?.split(',').filter(Boolean) ?? ['stock', 'sessionpack'];
    if (!variants.includes('stock') || !variants.includes('sessionpack') || new Set(variants).size !== variants.length) {
        throw new Error(`BENCH_BROWSER_VARIANTS must name stock and sessionpack once each (and other variants), got "${variants.join(',')}"`);
    }
    for (const variant of variants) variantSettings(variant);
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const previousLevel = crawleeLog.getLevel();
    crawleeLog.setLevel(LogLevel.OFF);
    const pg = await startProvingGround({ scenario: 'benign', seed, proxies: { count: PROXIES }, site: { categories: 20, productsPerCategory: 20 } });
    const rows: BrowserOverheadRow[] = [];
    try {
        let offset = 0;
        for (const browser of browsers) {
            const runs = new Map<Variant, BrowserOverheadRow[]>(variants.map((v) => [v, []]));
            for (let r = 0; r < repeats; r++) {
                const screen = screens === 'paired' ? await drawScreen(derive(seed, 'browser-overhead', 'screen', r)) : undefined;
                // Take turns at going first, so a load change does not always hit the same variant.
                const shift = (r + (browser === 'playwright' ? 0 : 1)) % variants.length;
                const order = [...variants.slice(shift), ...variants.slice(0, shift)];
                for (const variant of order) {
                    const urls = Array.from({ length: pages }, (_, i) => `${pg.siteUrl}/product/${((offset + i) % 400) + 1}`);
                    offset += pages;
                    const row = await crawlInChild({ browser, variant, proxyUrls: pg.proxyUrls.slice(0, PROXIES), urls, seed, screen }, r);
                    runs.get(variant)!.push(row);
                    progress(
                        `browser-overhead ${row.crawler} ${variant} run ${r + 1}${screen ? ` (screen ${screen.width}x${screen.height})` : ''}: ${row.pages} pages (${row.failed} failed), ${fmt(row.pagesPerMinute, 0)} pages/min, ` +
                            `${row.contexts} contexts, ${row.sessions} sessions, ${row.recreations} recreations, peak RSS ${fmt(row.peakRssMiB, 0)} MiB in up to ${row.processes} processes ` +
                            `(${Object.entries(row.peakByKindMiB ?? {}).map(([kind, mib]) => `${kind} ${mib}`).join(', ')}), ${fmt(row.megapixels, 2)} Mpx per page`,
                    );
                }
            }
            for (const variant of variants) {
                const list = runs.get(variant)!;
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
                    processes: Math.max(...list.map((x) => x.processes)),
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
        if (!stock) continue;
        for (const ours of rows.filter((r) => r.crawler === crawler && !isStock(r.variant))) {
            const name = ours.variant === 'sessionpack' ? crawler : `${crawler} ${ours.variant}`;
            const speed = ours.pagesPerMinute / stock.pagesPerMinute;
            verdicts.push(`${name}: pages per minute ${fmt(speed, 2)}x stock's (bar: >= 1.00): ${speed >= 1 ? 'met' : 'MISSED'}.`);
            const contextsOk = ours.contexts <= ours.sessions + ours.recreations;
            verdicts.push(
                `${name}: ${ours.contexts} contexts for ${ours.sessions} sessions + ${ours.recreations} idle-bound recreations (stock: up to ${stock.contexts} for ${stock.pages / repeats} pages a run): ${contextsOk ? 'met' : 'MISSED'}.`,
            );
            const rss = ours.peakRssMiB / stock.peakRssMiB;
            verdicts.push(`${name}: peak RSS of the process tree ${fmt(ours.peakRssMiB, 0)} MiB vs stock's ${fmt(stock.peakRssMiB, 0)} MiB (${fmt(rss, 2)}x, bar: <= 1.00): ${rss <= 1 ? 'met' : 'MISSED'}.`);
        }
    }
    const table: Table = {
        title:
            `Browser crawlers on a site with no defenses (proving ground "benign", ${PROXIES} good proxies), ${pages} pages per run, concurrency ${CONCURRENCY}, ` +
            `${variants.join(' vs ')} in one run, ${repeats} runs each taking turns (medians)`,
        columns: ['crawler', 'variant', 'pages', 'with price', 'failed', 'pages/min', 'runs (pages/min)', 'contexts', 'sessions', 'recreations', 'peak RSS (MiB)', 'processes', 'Mpx per page'],
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
            r.processes,
            fmt(r.megapixels, 2),
        ]),
        notes: [
            (screens === 'paired'
                ? 'Screens paired: each run draws one screen size (seeded, from the fingerprints of desktop Chrome on this OS, the default of both) and both ' +
                  "variants' fingerprints in that run have it (stock: Crawlee's default fingerprint options plus the screen; sessionpack: fingerprintGeneratorOptions.screen); " +
                  'stock renders at the whole screen, sessionpack at the window inside it. '
                : 'Screens not paired (BENCH_BROWSER_SCREENS=own): stock draws one fingerprint per browser, sessionpack one per session. ') +
                'Stock: useIncognitoPages (a new context per page; without it Crawlee sends every page through the first proxy), Crawlee\'s session pool, ' +
                `ProxyConfiguration with the same ${PROXIES} proxies. sessionpack: withSessions() at its defaults (pool of 20 sessions, maxIdleContexts 20), one shared browser.`,
            '"contexts", "sessions", "recreations", "processes": the most of any run; "contexts" are the distinct browser contexts the crawled pages were in, counted ' +
                'from the pages; "recreations": pages whose session had been in another context before. Peak RSS (median of the runs): the crawl\'s own child process ' +
                'and every descendant (Chromium, renderers, GPU process; not the proving ground), sampled every 200 ms (by an asynchronous `ps`, which does not hold up the crawl). ' +
                '"Mpx per page" (median of the runs): the mean rendered area of the crawled pages (viewport x device scale factor squared), ' +
                'which memory and speed follow; stock renders every page of a browser with the one fingerprint it was launched with.',
        ],
    };
    return { part: 'browser-overhead', seeds: [seed], seconds: (Date.now() - wallStart) / 1000, tables: [table], verdicts, rows };
}
