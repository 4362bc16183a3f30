/**
 * Example actor: PlaywrightCrawler with sessionpack. With no start URLs it starts an embedded proving ground (a local hostile
 * shop behind a proxy farm) and crawls it, each new session first choosing a location in the shop's form in its own
 * a browser context; give it real start URLs and proxy URLs to crawl a real site the same way (links of the same site are
 * followed, every page's title is stored). The crawl report (SESSIONPACK_REPORT.html) lands in the default key-value
 * store at the end.
 */
import { PlaywrightCrawler } from '@crawlee/playwright';
import { type ActorInput, finishRun, openActorManager, resolveTarget, shopBrowserRule } from '@sessionpack/actor-kit';
import { withSessions } from '@sessionpack/playwright';
import { Actor } from 'apify';
import type { Page } from 'playwright';

await Actor.init();
const input = await Actor.getInput<ActorInput>();
const target = await resolveTarget(input, ['/', '/js']);
const rules = target.ground ? [shopBrowserRule<Page>(target.ground.siteUrl, target.location, (page, select, location) => page.selectOption(select, location))] : [];
const manager = await openActorManager(target, input?.poolSize ?? 4, rules);

const crawler = new PlaywrightCrawler(
    withSessions(
        {
            maxRequestsPerCrawl: input?.maxRequestsPerCrawl ?? 60,
            maxConcurrency: input?.maxConcurrency ?? 3,
            requestHandler: async ({ page, request, session, enqueueLinks }) => {
                const price = await page.$eval('.price', (el) => ({ amount: el.textContent, location: el.getAttribute('data-location') })).catch(() => undefined);
                const rendered = await page.$eval('#rendered', (el) => el.textContent).catch(() => null);
                await Actor.pushData({ url: request.loadedUrl ?? request.url, title: await page.title(), price, rendered, session: session?.id });
                await enqueueLinks({ strategy: 'same-hostname' });
            },
        },
        manager,
    ),
);
await crawler.run(target.startUrls);
await finishRun(manager, target);
await Actor.exit();
