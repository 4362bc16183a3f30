/**
 * The benchmarks at a tiny size (`pnpm bench --smoke` runs the same), so they cannot rot: every part runs through its
 * real code, and its tables must have their shape and sane values. The numbers themselves live in BENCHMARKS.md.
 */
import { describe, expect, it } from 'vitest';

import { runCore } from '../bench/src/core/index.js';
import { runE2e } from '../bench/src/e2e/index.js';
import { runOverhead } from '../bench/src/overhead/index.js';
import { runRedis } from '../bench/src/redis/index.js';
import { runReportBench } from '../bench/src/report/index.js';
import { runSelection } from '../bench/src/selection/index.js';
import { renderPart, type PartResult } from '../bench/src/shared/table.js';

const quiet = () => {};

function expectShape(result: PartResult): void {
    expect(result.tables.length).toBeGreaterThan(0);
    for (const table of result.tables) {
        expect(table.rows.length).toBeGreaterThan(0);
        for (const row of table.rows) expect(row).toHaveLength(table.columns.length);
    }
    expect(result.seeds.length).toBeGreaterThan(0);
    expect(renderPart(result)).toContain(`### ${result.part}`);
}

describe('benchmarks, smoke size', () => {
    it('selection: every contestant finishes every world; the oracle is never refused; scored beats Crawlee in (a)', async () => {
        const result = await runSelection({ smoke: true, seed: 1, progress: quiet });
        expectShape(result);
        const worlds = [...new Set(result.rows.map((r) => r.world))];
        expect(worlds).toHaveLength(6);
        const contestants = [...new Set(result.rows.map((r) => r.contestant))];
        expect(contestants).toEqual(
            expect.arrayContaining([
                'sessionpack scored',
                'sessionpack random',
                'sessionpack round-robin',
                'sessionpack use-until-failure',
                'Crawlee SessionPool',
                'Apify article pickSession',
                'oracle',
            ]),
        );
        for (const row of result.rows) {
            for (const run of row.runs) expect(run.ok).toBeGreaterThanOrEqual(result.pages);
            // Every page costs at least one request; waste only adds.
            expect(row.requests).toBeGreaterThanOrEqual(1000);
            expect(row.requests).toBeCloseTo(1000 + row.blocked + row.rateLimited, 6);
            expect(row.requestsVsOracle).toBeGreaterThanOrEqual(1);
        }
        for (const row of result.rows.filter((r) => r.contestant === 'oracle')) {
            expect(row.blocked).toBe(0);
            expect(row.rateLimited).toBe(0);
            expect(row.requests).toBe(1000);
        }
        const inA = (name: string) => result.rows.find((r) => r.world.startsWith('(a)') && r.contestant === name)!;
        expect(inA('sessionpack scored').blocked).toBeLessThan(inA('Crawlee SessionPool').blocked / 3);
        expect(inA('sessionpack scored').blocked).toBeLessThan(inA('Apify article pickSession').blocked);
    });

    it('core: ops per second for each size and layout, memory and persistence against Crawlee', async () => {
        const result = await runCore({ smoke: true, seed: 1, progress: quiet });
        expectShape(result);
        expect(result.rows).toHaveLength(4);
        for (const row of result.rows) {
            expect(Number.isFinite(row.oursMicros) && row.oursMicros > 0).toBe(true);
            expect(Number.isFinite(row.crawleeMicros) && row.crawleeMicros > 0).toBe(true);
        }
        const p = result.persistence;
        for (const v of [p.oursPersistSecs, p.oursRestoreSecs, p.crawleePersistSecs, p.crawleeRestoreSecs, p.oursBytes, p.crawleeBytes]) {
            expect(Number.isFinite(v) && v > 0).toBe(true);
        }
    });

    it('report: pages per second with the crawl report recording on and off, and the cost of one use()', async () => {
        const result = await runReportBench({ smoke: true, seed: 1, progress: quiet });
        expectShape(result);
        expect(result.onRuns).toHaveLength(1);
        expect(result.offRuns).toHaveLength(1);
        for (const v of [result.ratio, result.cpuRatio, result.pairedRatio, result.coreRatio]) expect(v).toBeGreaterThan(0);
        expect(result.nanosPerUse).toBeGreaterThan(0);
        expect(result.impliedRatio).toBeLessThan(1);
    });

    it('overhead: pages per second with and without sessionpack, without and with a proxy', async () => {
        const result = await runOverhead({ smoke: true, seed: 1, progress: quiet });
        expectShape(result);
        expect(result.rows.map((r) => r.setting)).toEqual(['no proxy', 'one proxy']);
        for (const row of result.rows) {
            expect(row.stockPagesPerSec).toBeGreaterThan(0);
            expect(row.oursPagesPerSec).toBeGreaterThan(0);
            expect(Number.isFinite(row.ratio)).toBe(true);
        }
    });

    it('e2e: sessionpack gets every page of the realistic scenario with fewer blocks than stock, in Cheerio and both browsers', async () => {
        const result = await runE2e({ smoke: true, seed: 1, progress: quiet });
        expectShape(result);
        const label = (r: (typeof result.rows)[number]) => `${'run' in r ? `${String(r.run)}: ` : ''}${r.crawler} ${r.variant}`;
        expect(result.rows.map(label)).toEqual([
            'CheerioCrawler sessionpack',
            'CheerioCrawler stock',
            'PlaywrightCrawler sessionpack',
            'PlaywrightCrawler stock',
            'PuppeteerCrawler sessionpack',
            'PuppeteerCrawler stock',
            // The hard scenario (issue 11): through the farm, through the gateway, and Playwright through the farm.
            'hard: CheerioCrawler sessionpack',
            'hard: CheerioCrawler stock',
            'gateway: CheerioCrawler sessionpack',
            'gateway: CheerioCrawler stock',
            'hard-browser: PlaywrightCrawler sessionpack',
            'hard-browser: PlaywrightCrawler stock',
        ]);
        for (const row of result.rows) {
            expect(row.requests).toBeGreaterThanOrEqual(row.pagesDone);
            if (row.variant === 'sessionpack') {
                expect(row.pagesDone).toBe(row.pagesWanted);
                expect(row.failed).toBe(0);
            }
        }
        const cheerio = (variant: string) => result.rows.find((r) => r.crawler === 'CheerioCrawler' && r.variant === variant)!;
        expect(cheerio('sessionpack').blocked).toBeLessThan(cheerio('stock').blocked);
    });

    it('redis: four worker processes, independent and sharing one Redis, get every page; the per-op cost of both stores', async () => {
        const result = await runRedis({ smoke: true, seed: 1, progress: quiet });
        expectShape(result);
        expect(result.sharing.map((r) => r.variant)).toEqual(['independent', 'sharing Redis']);
        for (const row of result.sharing) {
            expect(row.pagesDone).toBe(row.pagesWanted);
            expect(row.failed).toBe(0);
            expect(row.requests).toBeGreaterThanOrEqual(row.pagesDone);
        }
        expect(result.overhead.map((o) => o.store)).toEqual(['in-memory', 'Redis']);
        for (const o of result.overhead) expect(Number.isFinite(o.microsPerOp) && o.microsPerOp > 0).toBe(true);
    });
});
