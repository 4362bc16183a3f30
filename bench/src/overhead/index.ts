/**
 * Overhead (`pnpm bench overhead`): what sessionpack costs a crawl that needs none of it. The proving ground's `benign`
 * scenario (no defenses), CheerioCrawler with and without sessionpack, once with no proxy (the site's direct loopback
 * address) and once through one proxy of the farm. Runs alternate (stock, sessionpack, stock, ...) so drifts in machine
 * load hit both alike; the median pages per second of each is reported.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, log as crawleeLog, LogLevel, ProxyConfiguration } from '@crawlee/core';
import { withSessions } from '@sessionpack/cheerio';
import { SessionManager, type SessionManagerOptions } from '@sessionpack/core';
import { startProvingGround, type ProvingGround } from '@sessionpack/proving-ground';

import { derive, withSeededMathRandom } from '../shared/prng.js';
import { median } from '../shared/stats.js';
import { fmt, type PartResult, type Table } from '../shared/table.js';

export interface OverheadOptions {
    smoke?: boolean;
    seed?: number;
    /** Pages per run (default 300; smoke 40). */
    pages?: number;
    /** Runs of each variant per setting (default 5; smoke 1). */
    repeats?: number;
    progress?: (line: string) => void;
}

export interface OverheadRow {
    setting: 'no proxy' | 'one proxy';
    /** Pages per wall-clock second, median of the runs. */
    stockPagesPerSec: number;
    oursPagesPerSec: number;
    /** sessionpack ÷ stock, wall clock. */
    ratio: number;
    /** Pages per second of CPU time used by the process (crawler, proxy and site alike), median of the runs. */
    stockPagesPerCpuSec: number;
    oursPagesPerCpuSec: number;
    /** sessionpack ÷ stock, CPU time: what other load on the machine disturbs least. */
    cpuRatio: number;
    stockRuns: number[];
    oursRuns: number[];
}

/** Pages per second of one run: of wall time and of the process's CPU time. */
export interface Rate {
    wall: number;
    cpu: number;
}

export interface OverheadResult extends PartResult {
    rows: OverheadRow[];
    pages: number;
    repeats: number;
}

/** Fixed concurrency for both (Crawlee's autoscaling would otherwise start at 1 and ramp up over tens of seconds). */
export const CONCURRENCY = 10;
/** The benign shop made big enough that no page is fetched twice in a run. */
export const CATEGORIES = 20;
export const PRODUCTS_PER_CATEGORY = 50;

function urls(base: string, count: number, offset: number): string[] {
    const total = CATEGORIES * PRODUCTS_PER_CATEGORY;
    return Array.from({ length: count }, (_, i) => `${base}/product/${((offset + i) % total) + 1}`);
}

/** One timed crawl of `pages` product pages, stock or with sessionpack (at its defaults plus `managerOptions`). */
export async function crawl(options: {
    base: string;
    proxyUrl?: string;
    sessionpack: boolean;
    pages: number;
    offset: number;
    seed: number;
    managerOptions?: Partial<SessionManagerOptions>;
}): Promise<Rate> {
    const config = new Configuration({ persistStorage: false });
    let extracted = 0;
    const crawlerOptions = {
        minConcurrency: CONCURRENCY,
        maxConcurrency: CONCURRENCY,
        maxRequestRetries: 3,
        requestHandler: async ({ $ }: { $: (selector: string) => { length: number } }) => {
            if ($('.price').length) extracted++;
        },
    };
    let manager: SessionManager | undefined;
    let crawler: CheerioCrawler;
    if (options.sessionpack) {
        manager = await SessionManager.open({
            proxyUrls: options.proxyUrl ? [options.proxyUrl] : undefined,
            store: false,
            statsIntervalSecs: 0,
            random: derive(options.seed, 'overhead', options.offset),
            config,
            ...options.managerOptions,
        });
        crawler = new CheerioCrawler(withSessions(crawlerOptions as never, manager), config);
    } else {
        crawler = new CheerioCrawler(
            { ...(crawlerOptions as object), ...(options.proxyUrl ? { proxyConfiguration: new ProxyConfiguration({ proxyUrls: [options.proxyUrl] }) } : {}) },
            config,
        );
    }
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await crawler.run(urls(options.base, options.pages, options.offset));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    await manager?.close();
    if (extracted !== options.pages) throw new Error(`overhead: extracted ${extracted} of ${options.pages} pages (${options.sessionpack ? 'sessionpack' : 'stock'})`);
    return { wall: options.pages / seconds, cpu: options.pages / ((used.user + used.system) / 1e6) };
}

export async function runOverhead(options: OverheadOptions = {}): Promise<OverheadResult> {
    const wallStart = Date.now();
    const smoke = options.smoke ?? false;
    const seed = options.seed ?? 1;
    const pages = options.pages ?? (smoke ? 40 : 300);
    const repeats = options.repeats ?? (smoke ? 1 : 5);
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const previousLevel = crawleeLog.getLevel();
    crawleeLog.setLevel(LogLevel.OFF);
    const pg: ProvingGround = await startProvingGround({
        scenario: 'benign',
        seed,
        exposeDirect: true,
        site: { categories: CATEGORIES, productsPerCategory: PRODUCTS_PER_CATEGORY },
    });
    const rows: OverheadRow[] = [];
    try {
        const settings: { setting: OverheadRow['setting']; base: string; proxyUrl?: string }[] = [
            { setting: 'no proxy', base: pg.directUrl!.replace(/\/$/, '') },
            { setting: 'one proxy', base: pg.siteUrl.replace(/\/$/, ''), proxyUrl: pg.proxyUrls[0] },
        ];
        let offset = 0;
        for (const s of settings) {
            // One untimed warm-up run of each variant (JIT, header-generator caches, proxy connections).
            for (const sessionpack of [false, true]) {
                await crawl({ ...s, sessionpack, pages: Math.min(pages, 100), offset: (offset += pages), seed });
            }
            const stockRuns: Rate[] = [];
            const oursRuns: Rate[] = [];
            for (let r = 0; r < repeats; r++) {
                // Alternate which goes first, so a slow start or a load change does not always hit the same variant.
                const order = r % 2 === 0 ? [false, true] : [true, false];
                for (const sessionpack of order) {
                    const rate = await withSeededMathRandom(derive(seed, 'overhead', s.setting, r, String(sessionpack)), () =>
                        crawl({ ...s, sessionpack, pages, offset: (offset += pages), seed }),
                    );
                    (sessionpack ? oursRuns : stockRuns).push(rate);
                }
            }
            const stock = median(stockRuns.map((r) => r.wall));
            const ours = median(oursRuns.map((r) => r.wall));
            const stockCpu = median(stockRuns.map((r) => r.cpu));
            const oursCpu = median(oursRuns.map((r) => r.cpu));
            rows.push({
                setting: s.setting,
                stockPagesPerSec: stock,
                oursPagesPerSec: ours,
                ratio: ours / stock,
                stockPagesPerCpuSec: stockCpu,
                oursPagesPerCpuSec: oursCpu,
                cpuRatio: oursCpu / stockCpu,
                stockRuns: stockRuns.map((r) => r.wall),
                oursRuns: oursRuns.map((r) => r.wall),
            });
            progress(
                `overhead ${s.setting}: stock ${fmt(stock, 0)} pages/s, sessionpack ${fmt(ours, 0)} pages/s (${fmt(ours / stock, 3)}); ` +
                    `per CPU second ${fmt(stockCpu, 0)} vs ${fmt(oursCpu, 0)} (${fmt(oursCpu / stockCpu, 3)})`,
            );
        }
    } finally {
        await pg.close();
        crawleeLog.setLevel(previousLevel);
    }
    const table: Table = {
        title: `CheerioCrawler on a site with no defenses (proving ground "benign"), ${pages} pages per run, median of ${repeats} runs each`,
        columns: [
            'setting',
            'stock pages/s',
            'sessionpack pages/s',
            'sessionpack ÷ stock',
            'stock pages/CPU s',
            'sessionpack pages/CPU s',
            'sessionpack ÷ stock (CPU)',
            'stock runs (pages/s)',
            'sessionpack runs (pages/s)',
        ],
        rows: rows.map((r) => [
            r.setting,
            fmt(r.stockPagesPerSec, 0),
            fmt(r.oursPagesPerSec, 0),
            fmt(r.ratio, 3),
            fmt(r.stockPagesPerCpuSec, 0),
            fmt(r.oursPagesPerCpuSec, 0),
            fmt(r.cpuRatio, 3),
            r.stockRuns.map((v) => fmt(v, 0)).join(' '),
            r.oursRuns.map((v) => fmt(v, 0)).join(' '),
        ]),
        notes: [
            `Both crawlers at a fixed concurrency of ${CONCURRENCY} (minConcurrency = maxConcurrency), retries and everything else at defaults; ` +
                'sessionpack at its defaults (pool of 20 sessions, scored policy, classifier on every response). "no proxy" fetches the site on its ' +
                'loopback address directly; "one proxy" goes through one proxy of the farm to shop.test. Runs alternate between the variants. ' +
                '"pages/CPU s": pages per second of CPU time of the whole process (crawler, proxy and site run in it alike), which other load on ' +
                'the machine disturbs far less than wall time.',
        ],
    };
    const verdicts = rows.map(
        (r) =>
            `${r.setting}: sessionpack runs at ${fmt(r.ratio, 3)} of stock pages per second, ${fmt(r.cpuRatio, 3)} per CPU second ` +
            `(bar: at least 0.97: ${r.ratio >= 0.97 ? 'met' : 'MISSED'} on wall time, ${r.cpuRatio >= 0.97 ? 'met' : 'MISSED'} on CPU time).`,
    );
    return { part: 'overhead', seeds: [seed], seconds: (Date.now() - wallStart) / 1000, tables: [table], verdicts, rows, pages, repeats };
}
