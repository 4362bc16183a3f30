/**
 * Redis (`pnpm bench redis`): what sharing buys and what it costs. (1) Four crawler processes on the proving ground's
 * `realistic` scenario, each with its own quarter of the pages, once independent (each learns alone) and once sharing
 * one Redis (`@sessionpack/redis`): blocked responses and total requests at the site, side by side. (2) The per-op cost
 * of acquire + report with the Redis store against the in-memory manager, in one process.
 */
import { Log, LogLevel } from '@crawlee/core';
import { SessionManager } from '@sessionpack/core';
import { startProvingGround, type GroundTruth } from '@sessionpack/proving-ground';
import { redisStore, startRedisServer, type RedisServerHandle } from '@sessionpack/redis';

import { productUrls, rowFrom } from '../e2e/index.js';
import { median } from '../shared/stats.js';
import { fmt, int, type PartResult, type Table } from '../shared/table.js';
import { startWorker } from './processes.js';

export interface RedisBenchOptions {
    smoke?: boolean;
    seed?: number;
    /** Pages in total, split among the workers (default 400; smoke 40). */
    pages?: number;
    /** Worker processes (default 4). */
    workers?: number;
    /** acquire + report pairs per timed run of the per-op measurement (default 50,000; smoke 2,000). */
    ops?: number;
    progress?: (line: string) => void;
}

export interface SharingRow {
    variant: 'independent' | 'sharing Redis';
    workers: number;
    pagesWanted: number;
    pagesDone: number;
    requests: number;
    blocked: number;
    rateLimited: number;
    landings: number;
    failed: number;
    seconds: number;
}

export interface OverheadRow {
    store: 'in-memory' | 'Redis';
    microsPerOp: number;
    runs: number[];
}

export interface RedisBenchResult extends PartResult {
    sharing: SharingRow[];
    overhead: OverheadRow[];
}

/** What the site saw, counted as in the e2e part. */
function rowOf(truth: GroundTruth, base: Pick<SharingRow, 'variant' | 'workers' | 'pagesWanted' | 'failed' | 'seconds'>): SharingRow {
    const r = rowFrom(truth, { crawler: 'CheerioCrawler', variant: 'sessionpack', pagesWanted: base.pagesWanted, extracted: 0, failed: base.failed, seconds: base.seconds });
    return { ...base, pagesDone: r.pagesDone, requests: r.requests, blocked: r.blocked, rateLimited: r.rateLimited, landings: r.landings };
}

async function crawlWithWorkers(options: {
    variant: SharingRow['variant'];
    workers: number;
    urls: string[];
    proxyUrls: string[];
    siteUrl: string;
    redis?: { url: string; prefix: string };
}): Promise<Omit<SharingRow, 'pagesDone' | 'requests' | 'blocked' | 'rateLimited' | 'landings'>> {
    const started = Date.now();
    const procs = Array.from({ length: options.workers }, (_, i) =>
        startWorker({
            name: `${options.variant === 'independent' ? 'solo' : 'shared'}-${i}`,
            urls: options.urls.filter((_, j) => j % options.workers === i),
            proxyUrls: options.proxyUrls,
            shopSiteUrl: options.siteUrl,
            maxConcurrency: 5,
            maxRequestRetries: 30,
            ...(options.redis ? { redis: options.redis } : {}),
        }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    for (const [i, code] of codes.entries()) if (code !== 0) throw new Error(`redis bench: worker ${procs[i]!.name} exited with ${code}: ${procs[i]!.stderr().slice(-2000)}`);
    const failed = procs.reduce((n, p) => n + p.events.filter((e) => e.type === 'failed').length, 0);
    return { variant: options.variant, workers: options.workers, pagesWanted: options.urls.length, failed, seconds: (Date.now() - started) / 1000 };
}

/** µs per acquire + report (ok), one use at a time, on a pool of 20 sessions over 10 proxies (never contacted). */
async function perOp(store: 'in-memory' | 'Redis', ops: number, redisUrl: string, run: number): Promise<number> {
    const quiet = new Log({ level: LogLevel.OFF });
    const proxyUrls = Array.from({ length: 10 }, (_, i) => `http://user:pass-${i}@127.0.0.${20 + i}:${8000 + i}`);
    const manager = await SessionManager.open({
        proxyUrls,
        pool: { size: 20 },
        statsIntervalSecs: 0,
        log: quiet,
        store: store === 'Redis' ? { custom: redisStore({ url: redisUrl, prefix: `bench-op-${run}`, log: quiet }), persistOnEvent: false } : false,
    });
    const requests = Array.from({ length: 64 }, (_, i) => ({ url: `http://shop.test/product/${i}`, userData: {} }));
    // Warm-up: the pool fills, the JIT settles, the store has synced once.
    for (let i = 0; i < Math.min(ops, 5000); i++) manager.report(await manager.acquire(requests[i % 64]!), { type: 'ok' });
    const started = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) manager.report(await manager.acquire(requests[i % 64]!), { type: 'ok' });
    const micros = Number(process.hrtime.bigint() - started) / 1000 / ops;
    await manager.close();
    return micros;
}

export async function runRedis(options: RedisBenchOptions = {}): Promise<RedisBenchResult> {
    const wallStart = Date.now();
    const smoke = options.smoke ?? false;
    const seed = options.seed ?? 1;
    const pages = options.pages ?? (smoke ? 40 : 400);
    const workers = options.workers ?? 4;
    const ops = options.ops ?? (smoke ? 2000 : 50_000);
    const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
    const redis: RedisServerHandle = await startRedisServer();
    const pg = await startProvingGround({ scenario: 'realistic', seed });
    const sharing: SharingRow[] = [];
    const overhead: OverheadRow[] = [];
    try {
        const urls = productUrls(pg, pages);
        const common = { workers, urls, proxyUrls: [...pg.proxyUrls], siteUrl: pg.siteUrl };
        for (const variant of ['independent', 'sharing Redis'] as const) {
            pg.reset();
            const base = await crawlWithWorkers({ ...common, variant, ...(variant === 'sharing Redis' ? { redis: { url: redis.url, prefix: `bench-share-${seed}` } } : {}) });
            const row = rowOf(pg.stats(), base);
            sharing.push(row);
            progress(`redis ${variant}: ${row.pagesDone}/${row.pagesWanted} pages, ${row.requests} requests, ${row.blocked} blocked, ${row.rateLimited} rate-limited, ${row.failed} failed, ${fmt(row.seconds, 1)} s`);
        }
        const runs: Record<OverheadRow['store'], number[]> = { 'in-memory': [], Redis: [] };
        const repeats = smoke ? 1 : 5;
        for (let r = 0; r < repeats; r++) {
            // Alternate which goes first, so a load change does not always hit the same store.
            for (const store of r % 2 === 0 ? (['in-memory', 'Redis'] as const) : (['Redis', 'in-memory'] as const)) runs[store].push(await perOp(store, ops, redis.url, r));
        }
        for (const store of ['in-memory', 'Redis'] as const) overhead.push({ store, microsPerOp: median(runs[store]), runs: runs[store] });
        progress(`redis per op: in-memory ${fmt(overhead[0]!.microsPerOp, 2)} µs, Redis ${fmt(overhead[1]!.microsPerOp, 2)} µs`);
    } finally {
        await pg.close();
        await redis.stop();
    }
    const [solo, shared] = sharing as [SharingRow, SharingRow];
    const [mem, red] = overhead as [OverheadRow, OverheadRow];
    const opRatio = red.microsPerOp / mem.microsPerOp;
    const tables: Table[] = [
        {
            title: `${workers} CheerioCrawler processes on the proving ground "realistic" (seed ${seed}), ${pages} product pages split among them`,
            columns: ['workers', 'pages done', 'site requests', 'blocked', 'rate-limited', 'warm-ups (landings)', 'failed', 'wall s'],
            rows: sharing.map((r) => [r.variant, `${r.pagesDone}/${r.pagesWanted}`, int(r.requests), int(r.blocked), int(r.rateLimited), int(r.landings), r.failed, fmt(r.seconds, 1)]),
            notes: [
                'Each worker is its own process with withSessions at the defaults (sessions warm up through the shop rule of the e2e part), 5 pages in flight, ' +
                    'its own quarter of the pages. "independent": no shared state, each worker learns the banned and dead proxies alone. "sharing Redis": ' +
                    'one redis-server, one prefix, default sync every second. Counts are what the site recorded (blocked = 403, challenges, soft blocks, captchas).',
            ],
        },
        {
            title: `acquire + report, one use at a time, pool of 20 sessions over 10 proxies: µs per pair, median of ${runs(red)} runs of ${int(ops)}`,
            columns: ['store', 'µs per acquire + report', 'runs (µs)'],
            rows: overhead.map((o) => [o.store, fmt(o.microsPerOp, 2), o.runs.map((v) => fmt(v, 2)).join(' ')]),
            notes: [
                'In one process, nothing sent: the cost of the store on the hot path. "Redis": redisStore() with its defaults; syncs run every second in the ' +
                    'background (their cost is in the numbers); hand-outs of a session this worker holds a lease on need no round trip.',
            ],
        },
    ];
    const verdicts = [
        `sharing: ${int(shared.blocked)} blocked responses with Redis vs ${int(solo.blocked)} independent (${fmt(shared.blocked / Math.max(1, solo.blocked), 2)}x), ` +
            `${int(shared.requests)} vs ${int(solo.requests)} site requests (${fmt(shared.requests / Math.max(1, solo.requests), 2)}x).`,
        `per op: Redis store ${fmt(opRatio, 2)}x in-memory (target: within 2x) — ${opRatio <= 2 ? 'met' : 'missed'}.`,
    ];
    return { part: 'redis', seeds: [seed], seconds: (Date.now() - wallStart) / 1000, tables, verdicts, sharing, overhead };
}

function runs(row: OverheadRow): number {
    return row.runs.length;
}
