/**
 * A gateway session restored from Redis keeps its exit. Through the proving ground's residential-style gateway (one URL,
 * the exit chosen by the session id in the username), a session that took over a used-up session's URL was asked for
 * with that session's id; stored in Redis and restored by the next crawl, it must ask the gateway for the same id again
 * (same exit, same site visitor) instead of being dropped for a fresh id. Judged by what the gateway and the site saw.
 */
import { CheerioCrawler } from '@crawlee/cheerio';
import { Configuration, ProxyConfiguration } from '@crawlee/core';
import { withSessions } from '@sessionpack/cheerio';
import { SessionManager } from '@sessionpack/core';
import { startProvingGround, type ProvingGround } from '@sessionpack/proving-ground';
import { redisStore, startRedisServer, type RedisServerHandle } from '@sessionpack/redis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { dumpPrefix } from '../packages/redis/test/helpers.js';

const GATEWAY_PASSWORD = 'gw-pass-9f3k2';

let redis: RedisServerHandle;
let pg: ProvingGround | undefined;
beforeAll(async () => {
    redis = await startRedisServer();
});
afterEach(async () => {
    await pg?.close();
    pg = undefined;
});
afterAll(async () => {
    await redis?.stop();
});

/** One crawl (one page at a time) with its own manager on the Redis prefix; returns the pages that failed. */
async function crawl(ground: ProvingGround, prefix: string, worker: string, paths: string[]): Promise<string[]> {
    const gateway = ground.gateway!;
    const proxyConfiguration = new ProxyConfiguration({ newUrlFunction: (sessionId) => gateway.urlFor(String(sessionId)) });
    const config = new Configuration({ persistStorage: false, purgeOnStart: true });
    const manager = await SessionManager.open({
        proxyConfiguration,
        pool: { maxUses: 3 },
        store: { custom: redisStore({ url: redis.url, prefix, workerId: worker, syncIntervalMillis: 0 }) },
        statsIntervalSecs: 0,
        config,
    });
    const failed: string[] = [];
    const crawler = new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 1,
                requestHandler: async ({ $ }) => {
                    if ($('.price').length === 0) throw new Error('no price on the page');
                },
                failedRequestHandler: async ({ request }, error) => void failed.push(`${request.url}: ${error.message}`),
            },
            manager,
        ),
        config,
    );
    await crawler.run(paths.map((p) => ground.urlFor(ground.siteHost, p)));
    await manager.close();
    return failed;
}

it('a session that took over a used-up session\'s gateway URL is restored from Redis on that URL (same session id, exit and visitor)', async () => {
    pg = await startProvingGround({ seed: 11, proxies: { count: 1 }, gateway: { exits: 8, password: GATEWAY_PASSWORD }, site: { categories: 2, productsPerCategory: 10 } });
    const ground = pg;
    const prefix = 'gw-restore';

    // Run 1: 4 pages at 3 uses per session. The first session is used up after 3; the second takes over its URL.
    expect(await crawl(ground, prefix, 'run1', ['/product/1', '/product/2', '/product/3', '/product/4'])).toEqual([]);
    const first = ground.stats();
    const firstIds = Object.keys(first.gateway!.bySessionId);
    expect(firstIds, 'one gateway session id in run 1 (the second session reused the first one\'s URL)').toHaveLength(1);
    const [urlId] = firstIds as [string];
    const firstPages = first.requests.filter((e) => e.kind === 'page');
    expect(firstPages).toHaveLength(4);
    const visitors = [...new Set(firstPages.map((e) => e.sid))];
    expect(visitors, 'two site visitors (sessions) in run 1').toHaveLength(2);
    const lastVisitor = firstPages.at(-1)!.sid!;
    const exitIp = ground.gateway!.exitFor(urlId).ip;
    expect(new Set(firstPages.map((e) => e.ip))).toEqual(new Set([exitIp]));

    // Run 2, a new manager on the same Redis prefix: the second session is restored and asks for the same id again.
    expect(await crawl(ground, prefix, 'run2', ['/product/5', '/product/6'])).toEqual([]);
    const second = ground.stats();
    expect(Object.keys(second.gateway!.bySessionId), 'no new gateway session id in run 2').toEqual([urlId]);
    const secondPages = second.requests.slice(first.requests.length).filter((e) => e.kind === 'page');
    expect(secondPages.map((e) => e.path).sort()).toEqual(['/product/5', '/product/6']);
    // The restored session (its cookie: the same site visitor) came through the same exit. With the session dropped
    // on restore, a new session would ask for its own id: another visitor, very likely another exit.
    expect(secondPages[0]!.sid).toBe(lastVisitor);
    expect(secondPages[0]!.ip).toBe(exitIp);

    // Nothing under the prefix carries the gateway's password.
    const dump = await dumpPrefix(redis.url, prefix);
    expect(dump).toContain(urlId);
    expect(dump).not.toContain(GATEWAY_PASSWORD);
});
