/**
 * The demo (`npm run demo` at the repository root): one proving ground with the `realistic` scenario
 * (dozens of proxies, most of them banned, rate limits, a session cookie to earn, location + CSRF),
 * crawled once with CheerioCrawler + sessionpack and once with stock CheerioCrawler and the same
 * proxies. Every number in the table is what the site recorded, except the two that only the crawler
 * knows (sessions retired, proxies in backoff).
 *
 * The crawl report of the sessionpack run (outcomes over time, proxy health, session lifetimes, block reasons) is
 * written as one HTML file; the last line says where.
 *
 * Environment: DEMO_PAGES (product pages to fetch, default 400), DEMO_SEED (default 1), DEMO_REPORT (where to write
 * the report, default storage/sessionpack-demo-report.html).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, log, LogLevel, ProxyConfiguration, type Session } from '@crawlee/core';
import { withSessions } from '@sessionpack/cheerio';
import { SessionManager } from '@sessionpack/core';
import { type GroundTruth, type ProvingGround, startProvingGround } from '@sessionpack/proving-ground';
import { shopHttpRule as shopRule } from '@sessionpack/actor-kit';

const PAGES = Number(process.env.DEMO_PAGES ?? 400);
const SEED = Number(process.env.DEMO_SEED ?? 1);
const REPORT = resolve(process.env.DEMO_REPORT ?? 'storage/sessionpack-demo-report.html');
const BLOCKS = ['forbidden', 'challenges', 'softBlocks', 'captchas'] as const;

interface Row {
    pagesDone: number;
    requests: number;
    blocked: number;
    rateLimited: number;
    seconds: number;
    retired: number | string;
    backoff: number | string;
    failed: number;
    landings: number;
}

log.setLevel(LogLevel.OFF); // the table and the progress line are the output

function productUrls(pg: ProvingGround): string[] {
    return Array.from({ length: PAGES }, (_, i) => pg.urlFor(pg.siteHost, `/product/${i + 1}`));
}

/** Product pages with real content (and the expected location for sessionpack) as the site saw them. */
function pagesDone(truth: GroundTruth): number {
    return truth.requests.filter((e) => e.kind === 'page' && e.path.startsWith('/product/')).length;
}

function progress(label: string, pg: ProvingGround, started: number): NodeJS.Timeout {
    return setInterval(() => {
        const t = pg.stats().totals;
        const blocked = BLOCKS.reduce((n, k) => n + t[k], 0);
        process.stderr.write(
            `\r${label.padEnd(12)} ${String(pagesDone(pg.stats())).padStart(4)}/${PAGES} pages, ${t.requests} requests, ${blocked} blocked, ${t.rateLimited} rate-limited, ${((Date.now() - started) / 1000).toFixed(0)} s   `,
        );
    }, 500);
}

function rowFrom(truth: GroundTruth, started: number, extra: Pick<Row, 'retired' | 'backoff' | 'failed'>): Row {
    const t = truth.totals;
    return {
        pagesDone: pagesDone(truth),
        requests: t.requests,
        blocked: BLOCKS.reduce((n, k) => n + t[k], 0),
        rateLimited: t.rateLimited,
        landings: t.landings,
        seconds: (Date.now() - started) / 1000,
        ...extra,
    };
}

async function withSessionpack(pg: ProvingGround): Promise<Row> {
    const config = new Configuration({ persistStorage: false });
    const manager = await SessionManager.open({
        proxyUrls: [...pg.proxyUrls],
        pool: { size: 15 },
        rules: [shopRule(pg.siteUrl)],
        store: false,
        statsIntervalSecs: 0,
        config,
        // The demo keeps Crawlee's storage in memory: the report is written to a file below instead.
        report: { writeOnClose: false, title: `sessionpack demo: proving ground "realistic", seed ${SEED}` },
    });
    let failed = 0;
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 15,
                maxRequestRetries: 10,
                requestHandler: async () => {},
                failedRequestHandler: async () => void failed++,
            },
            manager,
        ),
        config,
    );
    const started = Date.now();
    const timer = progress('sessionpack', pg, started);
    await crawler.run(productUrls(pg));
    clearInterval(timer);
    const stats = manager.stats();
    mkdirSync(dirname(REPORT), { recursive: true });
    writeFileSync(REPORT, manager.crawlReport());
    await manager.close();
    return rowFrom(pg.stats(), started, { retired: stats.totals.sessions.retired, backoff: stats.proxies.backoff, failed });
}

async function stock(pg: ProvingGround): Promise<Row> {
    const config = new Configuration({ persistStorage: false });
    let failed = 0;
    const retired = new Set<string>();
    const crawler = new CheerioCrawler(
        {
            proxyConfiguration: new ProxyConfiguration({ proxyUrls: [...pg.proxyUrls] }),
            maxConcurrency: 15,
            maxRequestRetries: 10,
            preNavigationHooks: [
                ({ crawler: c }) => {
                    const pool = (c as CheerioCrawler).sessionPool;
                    if (pool && pool.listenerCount('sessionRetired') < 2) pool.on('sessionRetired', (s: Session) => retired.add(s.id));
                },
            ],
            requestHandler: async () => {},
            failedRequestHandler: async () => void failed++,
        },
        config,
    );
    const started = Date.now();
    const timer = progress('stock', pg, started);
    await crawler.run(productUrls(pg));
    clearInterval(timer);
    return rowFrom(pg.stats(), started, { retired: retired.size, backoff: 'n/a', failed });
}

function table(rows: Record<string, Row>): string {
    const names = Object.keys(rows);
    const fmt = (v: number | string, digits = 0) => (typeof v === 'number' ? v.toFixed(digits) : v);
    const lines: [string, (r: Row) => string][] = [
        ['pages done (product pages served)', (r) => fmt(r.pagesDone)],
        ['requests the site received', (r) => fmt(r.requests)],
        ['blocked (403, challenge, soft block, captcha)', (r) => fmt(r.blocked)],
        ['rate-limited (429)', (r) => fmt(r.rateLimited)],
        ['landing pages instead (no session cookie)', (r) => fmt(r.landings)],
        ['requests failed after retries', (r) => fmt(r.failed)],
        ['time (s)', (r) => fmt(r.seconds, 1)],
        ['sessions retired', (r) => fmt(r.retired)],
        ['proxies in backoff at the end', (r) => fmt(r.backoff)],
    ];
    const width = Math.max(...lines.map(([l]) => l.length));
    const out = [`${''.padEnd(width)}  ${names.map((n) => n.padStart(15)).join('')}`];
    for (const [label, get] of lines) out.push(`${label.padEnd(width)}  ${names.map((n) => get(rows[n]!).padStart(15)).join('')}`);
    return out.join('\n');
}

const pg = await startProvingGround({ scenario: 'realistic', seed: SEED });
const banned = pg.proxies.filter((p) => p.banned).length;
const dead = pg.proxies.filter((p) => p.dead).length;
console.log(
    `Proving ground "realistic" (seed ${SEED}): ${pg.siteUrl}, ${pg.proxies.length} proxies (${banned} banned, ${dead} dead), ` +
        `rate limits per IP and session, session cookie + location/CSRF required. Fetching ${PAGES} product pages.\n`,
);
const ours = await withSessionpack(pg);
pg.reset();
const theirs = await stock(pg);
process.stderr.write('\r'.padEnd(100) + '\r');
await pg.close();
console.log(table({ sessionpack: ours, 'stock Crawlee': theirs }));
const ratio = theirs.blocked / Math.max(1, ours.blocked);
console.log(`\nstock Crawlee sent ${theirs.requests} requests and got ${theirs.blocked} blocks for ${theirs.pagesDone} pages; sessionpack ${ours.requests} and ${ours.blocked} for ${ours.pagesDone} (${ratio.toFixed(1)}x fewer blocks).`);
console.log(`\nCrawl report of the sessionpack run (open it in a browser): ${REPORT}`);
