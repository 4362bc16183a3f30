/**
 * CrawlTimeline: bounded whatever the crawl's length, and lossless in what it counts (compaction only coarsens time);
 * reasons keep one example URL without user info; endings group by reason category. And the manager's report data:
 * counters equal stats(), proxies by host:port only, and `report: false` records nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { REPORT_OUTCOMES } from '@sessionpack/report';

import { CrawlTimeline, ManualClock, SessionManager, type OutcomeType } from '../src/index.js';
import { PASSWORDS, PROXIES, quietLog } from './helpers.js';

const TYPES: OutcomeType[] = ['ok', 'blocked', 'check-failed', 'rate-limited', 'proxy-failure', 'target-error', 'handler-error'];

describe('CrawlTimeline', () => {
    it('stays within maxBuckets and keeps every count, whatever the times (property)', () => {
        fc.assert(
            fc.property(
                fc.array(fc.record({ dt: fc.nat(5_000), type: fc.nat(TYPES.length - 1), pool: fc.nat(2) }), { maxLength: 300 }),
                fc.integer({ min: 2, max: 20 }),
                (events, maxBuckets) => {
                    const t = new CrawlTimeline({ bucketMillis: 10, maxBuckets });
                    let now = 1_000_000;
                    const expected = new Map<string, number>();
                    for (const e of events) {
                        now += e.dt;
                        const type = TYPES[e.type]!;
                        t.use(`p${e.pool}`, type, now, 'why', 'http://a.test/x');
                        const k = `p${e.pool}/${type}`;
                        expected.set(k, (expected.get(k) ?? 0) + 1);
                    }
                    for (const key of t.keys()) {
                        const s = t.series(key)!;
                        for (const o of REPORT_OUTCOMES) {
                            expect(s.counts[o].length).toBeLessThanOrEqual(maxBuckets);
                            expect(s.counts[o].reduce((a, b) => a + b, 0)).toBe(expected.get(`${key}/${o}`) ?? 0);
                        }
                        // The last use falls in the last bucket of the covered span.
                        expect(s.startedAt + maxBuckets * s.bucketMillis).toBeGreaterThan(now);
                    }
                },
            ),
            { seed: 1414, numRuns: 200 },
        );
    }, 30_000);

    it('keeps the first URL of each reason without user info, bounds distinct reasons, and groups endings', () => {
        const t = new CrawlTimeline({ maxReasons: 2 });
        t.use('a', 'blocked', 0, '403 status code', 'http://u:secret@a.test/p/1?q=2');
        t.use('a', 'blocked', 1, '403 status code', 'http://a.test/p/2');
        t.use('a', 'rate-limited', 2, '429', 'http://a.test/p/3');
        t.use('a', 'blocked', 3, 'captcha', 'http://a.test/p/4');
        t.use('a', 'ok', 4, 'ok', 'http://a.test/p/5');
        expect(t.reasons('a')).toEqual([
            { outcome: 'blocked', reason: '403 status code', count: 2, exampleUrl: 'http://a.test/p/1?q=2' },
            { outcome: 'rate-limited', reason: '429', count: 1, exampleUrl: 'http://a.test/p/3' },
            { outcome: 'blocked', reason: 'other reasons', count: 1 },
        ]);
        const session = (uses: number, created: number) => ({ poolKey: 'a', usageCount: uses, createdAt: new Date(created) });
        t.ended(session(3, 0), 'blocked: 403 status code', 1000);
        t.ended(session(5, 500), 'blocked: captcha', 1500);
        t.ended(session(10, 0), 'max uses reached', 4000);
        expect(t.endings('a')).toEqual([
            { reason: 'blocked', count: 2, meanUses: 4, maxUses: 5, meanAgeMillis: 1000, maxAgeMillis: 1000 },
            { reason: 'max uses reached', count: 1, meanUses: 10, maxUses: 10, meanAgeMillis: 4000, maxAgeMillis: 4000 },
        ]);
    });
});

describe('manager report data', () => {
    it('holds the counters stats() gives, proxies by host:port, no credentials; report: false records nothing', async () => {
        const clock = new ManualClock();
        const m = await SessionManager.open({ store: false, statsIntervalSecs: 0, clock, log: quietLog(), proxyUrls: PROXIES, report: { writeOnClose: false } });
        const req = { url: 'https://a.test/page' };
        m.report(await m.acquire(req), { type: 'ok' }, req);
        await clock.advance(1500);
        m.report(await m.acquire(req), { type: 'blocked', reason: `403 via ${PROXIES[1]}` }, req);
        const data = m.reportData();
        const stats = m.stats();
        expect(data.pools.map((p) => p.key)).toEqual(['a.test']);
        expect(data.pools[0]!.counters).toEqual(stats.pools['a.test']!.counters);
        expect(data.pools[0]!.series!.counts.ok.reduce((a, b) => a + b, 0)).toBe(1);
        expect(data.pools[0]!.series!.counts.blocked.reduce((a, b) => a + b, 0)).toBe(1);
        expect(data.pools[0]!.reasons[0]).toMatchObject({ outcome: 'blocked', count: 1, exampleUrl: 'https://a.test/page' });
        expect(data.pools[0]!.endings).toMatchObject([{ reason: 'blocked', count: 1 }]);
        for (const p of data.proxies) expect(p.address).toMatch(/^[a-z0-9.-]+:\d+$/);
        const text = JSON.stringify(data) + m.crawlReport();
        for (const pw of PASSWORDS) expect(text).not.toContain(pw);
        await m.close();

        const off = await SessionManager.open({ store: false, statsIntervalSecs: 0, log: quietLog(), report: false });
        off.report(await off.acquire(req), { type: 'blocked', reason: 'x' }, req);
        expect(off.reportData().pools[0]).toMatchObject({ reasons: [], endings: [] });
        expect(off.reportData().pools[0]!.series).toBeUndefined();
        expect(await off.writeCrawlReport()).toBeUndefined();
        await off.close();
    });

    it('rejects a bad report option at construction, naming it', async () => {
        await expect(SessionManager.open({ store: false, report: { key: 'no spaces allowed' } })).rejects.toThrow(/report/);
        await expect(SessionManager.open({ store: false, report: { colour: 'red' } as never })).rejects.toThrow(/report/);
    });
});
