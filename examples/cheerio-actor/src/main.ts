/**
 * Example actor: CheerioCrawler with sessionpack. With no start URLs it starts an embedded proving ground (a local
 * hostile shop behind a proxy farm) and crawls that, each new session choosing a location through the shop's
 * CSRF-protected form first; give it real start URLs and proxy URLs to crawl a real site the same way. The crawl
 * report (SESSIONPACK_REPORT.html) lands in the default key-value store at the end.
 */
import { type ActorInput, finishRun, openActorManager, resolveTarget, shopHttpRule } from '@sessionpack/actor-kit';
import { Actor } from 'apify';
import { shopCrawler } from './crawl.js';

await Actor.init();
const input = await Actor.getInput<ActorInput>();
const target = await resolveTarget(input);
const manager = await openActorManager(target, input?.poolSize ?? 10, target.ground ? [shopHttpRule(target.ground.siteUrl, target.location)] : []);
const crawler = shopCrawler(manager, (product) => Actor.pushData(product), {
    maxRequestsPerCrawl: input?.maxRequestsPerCrawl ?? 200,
    maxConcurrency: input?.maxConcurrency ?? 20,
});
await crawler.run(target.startUrls);
await finishRun(manager, target);
await Actor.exit();
