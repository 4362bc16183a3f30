/**
 * The crawl report of a real crawl: CheerioCrawler + withSessions on the proving ground's `realistic` scenario (banned
 * and dead proxies, rate limits, a session cookie, CSRF), with proxies that need credentials. The report the manager
 * writes on close is opened in real Chromium: it must draw without console errors or network requests, its tables
 * must hold the numbers `manager.stats()` gives and what the site saw, no credential may appear in it, and a
 * screenshot is kept in test/artifacts/ (gitignored). `npx sessionpack-report` then draws it again from the storage.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration } from '@crawlee/core';
import { shopHttpRule } from '@sessionpack/actor-kit';
import { chromiumLaunchArgs, resolveChromiumPath } from '@sessionpack/browser';
import { withSessions } from '@sessionpack/cheerio';
import { COUNTER_NAMES, type ManagerStats, SessionManager } from '@sessionpack/core';
import { type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { chromium, type Browser, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const artifacts = join(root, 'test', 'artifacts');
const PASSWORD = 'report-s3cret-pw';
const USERNAME = 'report-user';

let pg: ProvingGround;
let storage: string;
let stats: ManagerStats;
let handled = 0;
let html: string;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
    pg = await startProvingGround({ scenario: 'realistic', seed: 5, proxies: { auth: { username: USERNAME, password: PASSWORD } },
        // Sessions get a captcha after 6 pages, so the crawl also meets blocks after init.
        site: { usageCap: 6 },
    });
    storage = mkdtempSync(join(tmpdir(), 'sessionpack-report-'));
    const config = new Configuration({ persistStorage: true, purgeOnStart: false, storageClientOptions: { localDataDirectory: storage } });
    const manager = await SessionManager.open({
        proxyUrls: [...pg.proxyUrls],
        pool: { size: 8 },
        rules: [shopHttpRule(pg.siteUrl)],
        store: false,
        statsIntervalSecs: 0,
        config,
    });
    const crawler = new CheerioCrawler(
        withSessions({ maxConcurrency: 8, maxRequestRetries: 10, requestHandler: async () => void handled++ }, manager),
        new Configuration({ persistStorage: false }),
    );
    await crawler.run(Array.from({ length: 80 }, (_, i) => pg.urlFor(pg.siteHost, `/product/${i + 1}`)));
    stats = manager.stats();
    await manager.close();
    // Crawlee's local storage writes the record as <key>.<extension of its content type>.
    const file = join(storage, 'key_value_stores', 'default', 'SESSIONPACK_REPORT.html');
    html = readFileSync(file, 'utf8');

    browser = await chromium.launch({ executablePath: resolveChromiumPath(), args: chromiumLaunchArgs() });
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    page.on('pageerror', (e) => void consoleErrors.push(e.message));
    page.on('request', (r) => void requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => document.querySelectorAll('canvas').length > 0 && [...document.querySelectorAll('canvas')].every((c) => (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart.getChart(c)));
}, 240_000);

afterAll(async () => {
    await browser?.close();
    await pg?.close();
    rmSync(storage, { recursive: true, force: true });
});

const pool = () => stats.pools[pg.siteHost]!;

describe('crawl report of a proving-ground crawl', () => {
    it('the crawl met blocks, rate limits and proxy failures, so the report has something to show', () => {
        expect(handled).toBe(80);
        const c = pool().counters;
        expect(c['use/ok']).toBe(80);
        expect(c['use/blocked'] + c['use/check-failed']).toBeGreaterThan(0);
        expect(c['init/passed']).toBeGreaterThan(0);
        expect(c['session/retired']).toBeGreaterThan(0);
    });

    it('draws in Chromium without console errors and without any network request', async () => {
        expect(consoleErrors).toEqual([]);
        expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
        const charts = await page.$$eval('canvas', (cs) => cs.map((c) => ({ id: c.id, width: c.width, height: c.height })));
        expect(charts.map((c) => c.id)).toEqual(['outcomes-0', 'endings-0']);
        for (const c of charts) expect(c.width * c.height).toBeGreaterThan(10_000);
        mkdirSync(artifacts, { recursive: true });
        await page.screenshot({ path: join(artifacts, 'crawl-report.png'), fullPage: true });
        expect(existsSync(join(artifacts, 'crawl-report.png'))).toBe(true);
    });

    it("its counter table holds manager.stats()'s numbers, and the chart's stacks add up to them", async () => {
        const shown = await page.$$eval(`section[data-pool="${pg.siteHost}"] td[data-counter]`, (tds) =>
            Object.fromEntries(tds.map((td) => [td.getAttribute('data-counter'), Number(td.textContent)])),
        );
        const counters = pool().counters;
        for (const name of COUNTER_NAMES) expect.soft(shown[name], name).toBe(counters[name]);
        const chartTotals = await page.evaluate(() => {
            const chart = (window as unknown as { Chart: { getChart(id: string): { data: { datasets: { label: string; data: number[] }[] } } } }).Chart.getChart('outcomes-0');
            return Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + (b ?? 0), 0)]));
        });
        for (const [outcome, total] of Object.entries(chartTotals)) expect(total, outcome).toBe(counters[`use/${outcome}` as keyof typeof counters]);
        expect(chartTotals.ok).toBe(80);
        const size = await page.$eval(`section[data-pool="${pg.siteHost}"] [data-fact="size"]`, (dd) => Number(dd.textContent));
        expect(size).toBe(pool().size);
        const summary = await page.$$eval('[data-summary]', (bs) => Object.fromEntries(bs.map((b) => [b.getAttribute('data-summary'), b.textContent])));
        expect(summary).toEqual({
            configured: String(stats.proxies.configured),
            tracked: String(stats.proxies.tracked),
            backoff: String(stats.proxies.backoff),
            bannedOnSites: String(stats.proxies.bannedOnSites),
        });
    });

    it('its proxy table names proxies by id and host:port, and no proxy got more ok uses than the site served through it', async () => {
        const rows = await page.$$eval(`section[data-pool="${pg.siteHost}"] table.health tbody tr`, (trs) =>
            trs.map((tr) => {
                const tds = [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '');
                const field = (n: string) => Number(tr.querySelector(`td[data-field="${n}"]`)?.textContent);
                return { id: tds[0], address: tds[1], successes: field('successes'), blocked: field('blocked') };
            }),
        );
        const byPort = new Map(pg.proxies.map((p) => [`127.0.0.1:${new URL(p.url).port}`, p]));
        expect(rows.length).toBeGreaterThan(5);
        expect(rows.reduce((n, r) => n + r.successes, 0)).toBe(80);
        const truth = pg.stats();
        for (const row of rows) {
            expect(row.id).toMatch(/^proxy_[0-9a-f]{12}$/);
            const proxy = byPort.get(row.address!);
            expect(proxy, `${row.address} is one of the farm's proxies`).toBeDefined();
            const seen = truth.byIp[proxy!.ip];
            // Every ok use of the crawl is a product page the site served through this proxy's address.
            expect(row.successes).toBeLessThanOrEqual(seen?.pages ?? 0);
        }
    });

    it('lists why sessions ended and the top block reasons, each with an example URL of the crawl', async () => {
        const endings = await page.$$eval(`section[data-pool="${pg.siteHost}"] table.endings tbody tr`, (trs) =>
            trs.map((tr) => ({ reason: tr.querySelector('td')?.textContent, count: Number(tr.querySelector('td[data-field="count"]')?.textContent) })),
        );
        expect(endings.reduce((n, e) => n + e.count, 0)).toBe(pool().counters['session/retired']);
        const reasons = await page.$$eval(`section[data-pool="${pg.siteHost}"] table.reasons tbody tr`, (trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
        );
        expect(reasons.length).toBeGreaterThan(0);
        for (const [, , , url] of reasons) expect(url).toMatch(new RegExp(`^${pg.siteUrl.replace(/[.]/g, '\\.')}/product/\\d+$`));
    });

    it('holds no proxy credentials, neither in the page nor in its data', () => {
        const data = readFileSync(join(storage, 'key_value_stores', 'default', 'SESSIONPACK_REPORT_DATA.json'), 'utf8');
        for (const text of [html, data]) {
            expect(text).not.toContain(PASSWORD);
            expect(text).not.toContain(USERNAME);
        }
        // Proxies appear by host:port: every proxy the site saw traffic from (the pool grows on demand, so which ones
        // depends on the crawl), and not one of them with its credentials.
        const used = [...new Set(pg.stats().requests.map((r) => r.proxy).filter((p): p is number => p !== undefined))];
        expect(used.length).toBeGreaterThan(0);
        for (const p of used) expect(html).toContain(`127.0.0.1:${new URL(pg.proxyUrls[p]!).port}`);
    });

    it('npx sessionpack-report draws it again from the storage directory', async () => {
        const out = join(storage, 'again.html');
        const { stdout } = await run('node', [join(root, 'packages/report/dist/cli.js'), storage, '--out', out]);
        expect(stdout).toContain(out);
        const again = readFileSync(out, 'utf8');
        expect(again).toContain(`data-pool="${pg.siteHost}"`);
        expect(again.match(/data-counter="use\/ok">(\d+)</)?.[1]).toBe('80');
        expect(again).not.toContain(PASSWORD);
    });

    it('a crawl whose manager withSessions() opened, and nobody closes, still leaves its report when the crawler finishes', async () => {
        const ground = await startProvingGround({ scenario: 'benign', seed: 2 });
        const dir = mkdtempSync(join(tmpdir(), 'sessionpack-report-open-'));
        try {
            const config = new Configuration({ persistStorage: true, purgeOnStart: false, storageClientOptions: { localDataDirectory: dir } });
            const crawler = new CheerioCrawler(
                withSessions({ requestHandler: async () => {} }, { proxyUrls: [...ground.proxyUrls], store: false, statsIntervalSecs: 0, config }),
                config,
            );
            await crawler.run(Array.from({ length: 5 }, (_, i) => ground.urlFor(ground.siteHost, `/product/${i + 1}`)));
            // Written on the persist-state event of the crawler's teardown, not awaited by Crawlee: wait for the file.
            const file = join(dir, 'key_value_stores', 'default', 'SESSIONPACK_REPORT.html');
            await expect.poll(() => existsSync(file) && readFileSync(file, 'utf8').match(/data-counter="use\/ok">(\d+)</)?.[1], { timeout: 10_000 }).toBe('5');
        } finally {
            await ground.close();
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
