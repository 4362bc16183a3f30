/**
 * Example actor: CheerioCrawler with sessionpack. With no start URLs it starts an embedded proving
 * ground (a local hostile shop behind a proxy farm) and crawls that; give it real start URLs and proxy
 * URLs to crawl a real site the same way.
 */
import { log } from '@crawlee/core';
import { SessionManager } from '@sessionpack/core';
import { type ProvingGround, type ScenarioName, startProvingGround } from '@sessionpack/proving-ground';
import { Actor } from 'apify';
import { shopCrawler } from './crawl.js';
import { shopRule } from './shop.js';

interface Input {
    startUrls?: ({ url: string } | string)[];
    proxyUrls?: string[];
    maxRequestsPerCrawl?: number;
    poolSize?: number;
    scenario?: ScenarioName;
}

await Actor.init();
const input = ((await Actor.getInput()) ?? {}) as Input;
let startUrls = (input.startUrls ?? []).map((s) => (typeof s === 'string' ? s : s.url));
let proxyUrls = input.proxyUrls ?? [];
let ground: ProvingGround | undefined;

if (startUrls.length === 0) {
    ground = await startProvingGround({ scenario: input.scenario ?? 'realistic', seed: 1 });
    startUrls = [ground.siteUrl + '/'];
    if (proxyUrls.length === 0) proxyUrls = [...ground.proxyUrls];
    log.info(`Crawling the embedded proving ground (${input.scenario ?? 'realistic'}) at ${ground.siteUrl} through ${proxyUrls.length} proxies`);
}

const manager = await SessionManager.open({
    proxyUrls: proxyUrls.length ? proxyUrls : undefined,
    pool: { size: input.poolSize ?? 10 },
    rules: ground ? [shopRule(ground.siteUrl)] : [],
});
const crawler = shopCrawler(manager, (product) => Actor.pushData(product), { maxRequestsPerCrawl: input.maxRequestsPerCrawl ?? 200 });
await crawler.run(startUrls);
await manager.close();
await ground?.close();
await Actor.exit();
