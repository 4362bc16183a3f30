/**
 * Several crawler processes (child processes, each a CheerioCrawler with withSessions) on one proving ground and one
 * Redis, judged by what the site saw: learning is shared, sessions travel between workers, a worker killed with
 * SIGKILL gives its sessions back when its leases expire, and a Redis restart mid-crawl loses no page.
 */
import { startProvingGround, type ProvingGround, type RequestLogEntry } from '@sessionpack/proving-ground';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startRedisServer, type RedisServerHandle } from '@sessionpack/redis';

import { startWorker, type WorkerProcess } from '../bench/src/redis/processes.js';

const BLOCKS = new Set(['forbidden', 'soft-block', 'challenge', 'captcha']);

let redis: RedisServerHandle;
let pg: ProvingGround | undefined;
let running: WorkerProcess[] = [];
let prefixes = 0;

beforeAll(async () => {
    redis = await startRedisServer();
});
afterEach(async () => {
    for (const w of running) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(running.map((w) => w.exited));
    running = [];
    await pg?.close();
    pg = undefined;
});
afterAll(async () => {
    await redis?.stop();
});

const products = (ground: ProvingGround, from: number, n: number) => Array.from({ length: n }, (_, i) => ground.urlFor(ground.siteHost, `/product/${from + i}`));
const pathOf = (url: string) => new URL(url).pathname;

function start(config: Parameters<typeof startWorker>[0]): WorkerProcess {
    const w = startWorker(config);
    running.push(w);
    return w;
}

async function finish(workers: WorkerProcess[]): Promise<void> {
    const codes = await Promise.all(workers.map((w) => w.exited));
    for (const [i, code] of codes.entries()) expect(code, `worker ${workers[i]!.name}: ${workers[i]!.stderr().slice(-3000)}`).toBe(0);
}

/** Polls `condition` (a state change in other processes, not a fixed delay) until it holds. */
async function waitFor(condition: () => boolean, timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** Paths the site served as a product page (what counts as "done"). */
const pagesServed = (log: RequestLogEntry[]) => new Set(log.filter((e) => e.kind === 'page').map((e) => e.path));

describe('several worker processes on one Redis', () => {
    it('share what they learn: after one worker met the banned proxies, two more do not pay for them again (independent workers do)', { timeout: 600_000 }, async () => {
        pg = await startProvingGround({ scenario: 'banned-proxies', seed: 21, site: { categories: 10, productsPerCategory: 30 } });
        const ground = pg;
        const urls = [0, 1, 2].map((i) => products(ground, 1 + i * 40, 40));
        // Round-robin fills each worker's pool over the proxies in the same order, so independent workers meet the same
        // banned proxies (the default policy grows on demand and explores less, which would make "the same" a matter
        // of luck).
        const base = { proxyUrls: [...ground.proxyUrls], pool: { size: 6, policy: 'round-robin' as const }, maxConcurrency: 3 };
        // Syncs every 250 ms. The first worker runs alone, then the other two together (the same order for both
        // variants): sharing, what the first learned reaches the others before their first use, with no race between
        // a first wave of uses and the first sync (which made the comparison depend on the machine's load).
        const sync = { syncIntervalMillis: 250, leaseTtlMillis: 3000 };
        const inTurn = async (launch: (u: string[], i: number) => WorkerProcess) => {
            await finish([launch(urls[0]!, 0)]);
            const firstPhase = ground.stats().requests.length;
            await finish([launch(urls[1]!, 1), launch(urls[2]!, 2)]);
            return firstPhase;
        };
        const isBlock = (e: RequestLogEntry) => BLOCKS.has(e.kind);
        /** Blocks of the later workers on proxies the first worker was already blocked on. */
        const paidAgain = (log: RequestLogEntry[], firstPhase: number) => {
            const known = new Set(log.slice(0, firstPhase).filter(isBlock).map((e) => e.proxy));
            return log.slice(firstPhase).filter((e) => isBlock(e) && known.has(e.proxy)).length;
        };
        const byProxy = (log: RequestLogEntry[]) => {
            const n: Record<string, number> = {};
            for (const e of log) if (isBlock(e)) n[`p${e.proxy ?? '?'}`] = (n[`p${e.proxy ?? '?'}`] ?? 0) + 1;
            return JSON.stringify(n);
        };

        const soloFirst = await inTurn((u, i) => start({ ...base, name: `solo${i}`, urls: u }));
        const soloLog = [...ground.stats().requests];
        ground.reset();

        const prefix = `share${++prefixes}`;
        const sharedFirst = await inTurn((u, i) => start({ ...base, name: `shared${i}`, urls: u, redis: { url: redis.url, prefix, ...sync } }));
        const sharedLog = ground.stats().requests;

        const blocked = (log: RequestLogEntry[]) => log.filter(isBlock).length;
        console.log(
            `blocked responses: 3 independent workers ${blocked(soloLog)} (of ${soloLog.length} requests, ${paidAgain(soloLog, soloFirst)} paid again) ${byProxy(soloLog)}, ` +
                `3 sharing Redis ${blocked(sharedLog)} (of ${sharedLog.length}, ${paidAgain(sharedLog, sharedFirst)} paid again) ${byProxy(sharedLog)}`,
        );
        const all = urls.flat().map(pathOf);
        expect([...pagesServed(soloLog)].sort()).toEqual([...all].sort());
        expect([...pagesServed(sharedLog)].sort()).toEqual([...all].sort());
        // The first worker met banned proxies (in both variants: the same order); independent workers paid for them
        // again, workers sharing Redis did not.
        expect(blocked(soloLog.slice(0, soloFirst))).toBeGreaterThan(0);
        expect(blocked(sharedLog.slice(0, sharedFirst))).toBeGreaterThan(0);
        expect(paidAgain(soloLog, soloFirst)).toBeGreaterThan(0);
        expect(paidAgain(sharedLog, sharedFirst)).toBe(0);
        expect(blocked(sharedLog)).toBeLessThan(blocked(soloLog) * 0.7);
    });

    it('a session initialised by one worker is used by another (its site cookie and all)', { timeout: 300_000 }, async () => {
        pg = await startProvingGround({ seed: 4, proxies: { count: 3 }, site: { sessionRequired: true } });
        const ground = pg;
        const prefix = `handoff${++prefixes}`;
        const common = { proxyUrls: [...ground.proxyUrls], pool: { size: 2 }, maxConcurrency: 2, initUrl: ground.urlFor(ground.siteHost, '/'), redis: { url: redis.url, prefix } };
        const first = start({ ...common, name: 'first', urls: products(ground, 1, 10) });
        await finish([first]);
        const firstLog = [...ground.stats().requests];
        const firstSids = new Set(firstLog.filter((e) => e.kind === 'landing').map((e) => e.sid));
        expect(firstSids.size).toBeGreaterThan(0);

        const second = start({ ...common, name: 'second', urls: products(ground, 11, 10) });
        await finish([second]);
        const secondLog = ground.stats().requests.slice(firstLog.length);
        const secondPages = secondLog.filter((e) => e.kind === 'page');
        // Every page of the second worker was served to a session cookie the first one earned; it earned none itself.
        expect(secondPages.map((e) => e.path).sort()).toEqual(products(ground, 11, 10).map(pathOf).sort());
        expect(secondPages.every((e) => e.sid !== undefined && firstSids.has(e.sid))).toBe(true);
        expect(secondLog.filter((e) => e.kind === 'landing')).toEqual([]);
    });

    it("kill -9 of a worker mid-crawl: its lease expires, the others take its session, every page is done", { timeout: 600_000 }, async () => {
        pg = await startProvingGround({ seed: 8, proxies: { count: 3 }, site: { sessionRequired: true } });
        const ground = pg;
        const prefix = `kill${++prefixes}`;
        // One session in the whole crawl (pool size 1, one use at a time): whoever holds its lease crawls, the rest wait.
        const common = {
            proxyUrls: [...ground.proxyUrls],
            pool: { size: 1, acquireTimeoutSecs: 120 },
            maxConcurrency: 1,
            initUrl: ground.urlFor(ground.siteHost, '/'),
            pageDelayMillis: 100,
            redis: { url: redis.url, prefix, leaseTtlMillis: 3000 },
        };
        const urls = [0, 1, 2].map((i) => products(ground, 1 + i * 8, i === 2 ? 30 : 8));
        // The victim crawls slowly (30 pages, 3 s each): it is still at it when the test kills it.
        const victim = start({ ...common, name: 'victim', urls: urls[2]!, pageDelayMillis: 3000 });
        const first = await victim.until((e) => e.type === 'page');
        const others = [0, 1].map((i) => start({ ...common, name: `w${i}`, urls: urls[i]! }));
        await Promise.all(others.map((w) => w.until((e) => e.type === 'ready')));
        await victim.until((e) => e.type === 'page' && victim.events.filter((x) => x.type === 'page').length >= 2);
        victim.child.kill('SIGKILL');
        expect(await victim.exited).toBe('SIGKILL');
        const done = new Set(victim.events.filter((e) => e.type === 'page').map((e) => e.url!));
        expect(done.size).toBeLessThan(urls[2]!.length);
        const replacement = start({ ...common, name: 'replacement', urls: urls[2]!.filter((u) => !done.has(u)) });
        await finish([...others, replacement]);

        const log = ground.stats().requests;
        expect([...pagesServed(log)].sort()).toEqual(urls.flat().map(pathOf).sort());
        // Every page after the kill was crawled with the victim's session: its lease ran out and the others took it.
        const survivors = [...others, replacement].flatMap((w) => w.events.filter((e) => e.type === 'page'));
        expect(survivors.length).toBe(urls.flat().length - done.size);
        expect(new Set(survivors.map((e) => e.sessionId))).toEqual(new Set([first.sessionId]));
        // ... and the site saw one session cookie, earned once.
        expect(log.filter((e) => e.kind === 'landing')).toHaveLength(1);
    });

    it('Redis restarted mid-crawl (empty): every worker crawls on, warns once, and every page is done', { timeout: 600_000 }, async () => {
        pg = await startProvingGround({ scenario: 'banned-proxies', seed: 5, site: { categories: 10, productsPerCategory: 30 } });
        const ground = pg;
        const prefix = `restart${++prefixes}`;
        const urls = [0, 1, 2].map((i) => products(ground, 1 + i * 30, 30));
        const workers = urls.map((u, i) =>
            start({ name: `r${i}`, urls: u, proxyUrls: [...ground.proxyUrls], pool: { size: 6 }, maxConcurrency: 2, pageDelayMillis: 150, logLevel: 'INFO', redis: { url: redis.url, prefix } }),
        );
        await Promise.all(workers.map((w) => w.until((e) => e.type === 'page' && w.events.filter((x) => x.type === 'page').length >= 3)));
        await redis.kill();
        // A real outage: Redis stays down until every worker noticed (a sync failed), then comes back empty.
        await waitFor(() => workers.every((w) => w.stderr().includes('Lost Redis')), 60_000);
        await redis.start();
        await finish(workers);
        const log = ground.stats().requests;
        expect([...pagesServed(log)].sort()).toEqual(urls.flat().map(pathOf).sort());
        for (const w of workers) {
            expect(w.events.filter((e) => e.type === 'failed')).toEqual([]);
            const lost = w.stderr().split('\n').filter((l) => l.includes('Lost Redis'));
            expect(lost.length, w.stderr().slice(-2000)).toBe(1);
            expect(lost[0]).toContain(`redis://127.0.0.1:${redis.port}`);
            expect(w.stderr()).toContain('is back');
        }
    });
});
