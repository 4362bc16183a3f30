/**
 * renderReport and the stored-state path, on plain data: hostile text stays text, extra learner fields get columns,
 * a report from a stored state says what it lacks, and the (built) CLI names the directory it could not read.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

import { endingCategory, readReportData, renderReport, reportDataFromState, type ReportData } from '../src/index.js';

const run = promisify(execFile);

const data = (over: Partial<ReportData> = {}): ReportData => ({
    format: 'sessionpack-report',
    version: 1,
    generatedAt: '2026-01-01T00:00:00.000Z',
    pools: [
        {
            key: 'shop.test',
            size: 4,
            counters: { 'use/ok': 7, 'use/blocked': 2 },
            sessions: { ready: 2, inUse: 0 },
            extra: { 'learned cap': 12 },
            reasons: [{ outcome: 'blocked', reason: '</script><script>alert(1)</script>', count: 2, exampleUrl: 'http://shop.test/p?a=1&b=<2>' }],
            endings: [{ reason: 'blocked', count: 2, meanUses: 3, maxUses: 4, meanAgeMillis: 1200, maxAgeMillis: 2000 }],
            proxies: [{ proxyId: 'proxy_aaaaaaaaaaaa', successes: 7, blocked: 2, proxyFailures: 0, rateLimited: 0, targetErrors: 0, backoffs: 1, state: 'backoff', extra: { tier: 2, 'learned pace': '1 / 2 s' } }],
        },
    ],
    proxies: [{ id: 'proxy_aaaaaaaaaaaa', address: '127.0.0.1:8000' }],
    ...over,
});

describe('renderReport', () => {
    it('escapes every text it shows and inlines Chart.js, so the page needs no network', () => {
        const html = renderReport(data());
        expect(html).not.toContain('<script>alert(1)');
        expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
        expect(html).toContain('http://shop.test/p?a=1&amp;b=&lt;2&gt;');
        // The embedded data cannot close its script element either.
        expect(html.split('</script>').length - 1).toBe(html.split('<script').length - 1);
        expect(html).toContain('Chart.js v4');
        expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    });

    it('shows the fields a learner adds as columns and facts by name', () => {
        const html = renderReport(data());
        expect(html).toContain('<th>learned pace</th><th>tier</th>');
        expect(html).toMatch(/<td>1 \/ 2 s<\/td><td>2<\/td><\/tr>/);
        expect(html).toContain('data-fact="extra-learned-cap">12<');
        expect(html).toContain('77.8 %'); // success rate: 7 of 9 judged uses
    });
});

describe('renderReport at scale', () => {
    it('draws the 40 most used pools and 200 proxies per pool, and says how many it left out', () => {
        const base = data().pools[0]!;
        const proxies = Array.from({ length: 250 }, (_, i) => ({ ...base.proxies[0]!, proxyId: `proxy_${String(i).padStart(12, '0')}`, successes: i }));
        const pools = Array.from({ length: 45 }, (_, i) => ({ ...base, key: `site-${i}.test`, counters: { 'use/ok': i }, proxies }));
        const html = renderReport(data({ pools }));
        expect(html.match(/<section class="pool"/g)).toHaveLength(40);
        expect(html).toContain('data-pool="site-44.test"');
        expect(html).not.toContain('data-pool="site-4.test"');
        expect(html).toContain('5 less used pools not shown');
        expect(html).toContain('50 less used proxies not shown');
        expect(html).toContain('proxy_000000000249');
        expect(html).not.toContain('>proxy_000000000049<');
    });
});

describe('stored state', () => {
    const state = {
        format: 'sessionpack-state',
        version: 1,
        pools: { 'shop.test': { sessions: [], retired: [{ id: 's1', proxyId: 'p1', reason: 'blocked: 403' }, { id: 's2', proxyId: 'p1', reason: 'max uses reached' }], retiredCount: 2 } },
        health: { p1: { global: {}, sites: { 'shop.test': { successes: 3, blocked: 1, proxyFailures: 0, rateLimited: 0, targetErrors: 0, backoffs: 0, banned: true } } } },
    };
    const stats = { pools: { 'shop.test': { size: 5, counters: { 'use/ok': 3 }, sessions: { ready: 0 } } }, proxies: { configured: 1, tracked: 1, backoff: 0, bannedOnSites: 1 } };

    it('becomes report data with endings by category, health per pool, and a note that it has no time series', () => {
        const d = reportDataFromState(state, stats, 0);
        expect(d.pools).toEqual([
            expect.objectContaining({
                key: 'shop.test',
                size: 5,
                counters: { 'use/ok': 3 },
                endings: [{ reason: 'blocked', count: 1 }, { reason: 'max uses reached', count: 1 }],
                proxies: [expect.objectContaining({ proxyId: 'p1', successes: 3, state: 'banned' })],
            }),
        ]);
        expect(d.notes?.[0]).toMatch(/no time series/);
        // The learner's records (core's default): faded counts, a backoff with its deadline, a pace.
        const learned = reportDataFromState(
            { pools: { 'shop.test': {} }, health: { p2: { global: {}, sites: { 'shop.test': { ok: 4.4, bad: 1.2, at: 0, backoff: { level: 2, until: 50 }, pace: { rate: 1, pausedUntil: 70 } } } } } },
            undefined,
            10,
        );
        expect(learned.pools[0]!.proxies).toEqual([
            { proxyId: 'p2', successes: 4, blocked: 1, proxyFailures: 0, rateLimited: 0, targetErrors: 0, backoffs: 2, state: 'backoff', pacedUntil: 70 },
        ]);
        expect(() => reportDataFromState({ nope: 1 })).toThrow(/SESSIONPACK_STATE/);
        expect(endingCategory('max error score reached (timeout)')).toBe('max error score reached');
    });

    it('is found in a storage directory, and the CLI names the directory when nothing is there', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'sessionpack-report-unit-'));
        try {
            await expect(run('node', [join(import.meta.dirname, '../dist/cli.js'), dir])).rejects.toMatchObject({
                stderr: expect.stringContaining(join(dir, 'key_value_stores')),
            });
            mkdirSync(join(dir, 'key_value_stores', 'sessionpack'), { recursive: true });
            writeFileSync(join(dir, 'key_value_stores', 'sessionpack', 'SESSIONPACK_STATE.json'), JSON.stringify(state));
            const found = readReportData(dir);
            expect(found.from).toBe('state');
            expect(found.data.pools[0]!.key).toBe('shop.test');
            expect(readFileSync(join(dir, 'key_value_stores', 'sessionpack', 'SESSIONPACK_STATE.json'), 'utf8')).toContain('p1');
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
