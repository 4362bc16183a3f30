/**
 * Example actor: PlaywrightCrawler with sessionpack. With no start URLs it starts an embedded proving ground (a local
 * hostile shop behind a proxy farm) and crawls it, each new session first choosing a location in the shop's form, in
 * the browser; give it real start URLs and proxy URLs to crawl a real site the same way (links of the same site are
 * followed, every page's title is stored).
 */
import { log } from '@crawlee/core';
import { PlaywrightCrawler } from '@crawlee/playwright';
import { type Rule, SessionManager } from '@sessionpack/core';
import { type PlaywrightHookExtras, withSessions } from '@sessionpack/playwright';
import { type ProvingGround, type ScenarioName, startProvingGround } from '@sessionpack/proving-ground';
import { Actor } from 'apify';

interface Input {
    startUrls?: ({ url: string } | string)[];
    proxyUrls?: string[];
    maxRequestsPerCrawl?: number;
    poolSize?: number;
    maxConcurrency?: number;
    location?: string;
    scenario?: ScenarioName;
}

/** Each new session of the shop chooses `location` in the shop's own form (CSRF token included), in its browser. */
function locationRule(siteUrl: string, location: string): Rule<PlaywrightHookExtras> {
    return {
        match: `${siteUrl}/**`,
        init: async ({ newPage }) => {
            const page = await newPage();
            page.setDefaultTimeout(10_000);
            // A new visitor may first get a landing page that starts the shop's session: then the form comes next time.
            for (let visit = 0; visit < 2 && !(await page.$('select[name=location]')); visit++) await page.goto(`${siteUrl}/location`);
            if (!(await page.$('select[name=location]'))) throw new Error(`no location form at ${page.url()} (blocked?)`);
            await page.selectOption('select[name=location]', location);
            await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
            const chosen = await page.$eval('#current-location', (el) => el.textContent);
            if (chosen !== location) throw new Error(`the shop kept location ${chosen}`);
        },
    };
}

await Actor.init();
const input = ((await Actor.getInput()) ?? {}) as Input;
let startUrls = (input.startUrls ?? []).map((s) => (typeof s === 'string' ? s : s.url));
let proxyUrls = input.proxyUrls ?? [];
let ground: ProvingGround | undefined;

if (startUrls.length === 0) {
    ground = await startProvingGround({ scenario: input.scenario ?? 'realistic', seed: 1 });
    startUrls = [`${ground.siteUrl}/`, `${ground.siteUrl}/js`];
    if (proxyUrls.length === 0) proxyUrls = [...ground.proxyUrls];
    log.info(`Crawling the embedded proving ground (${input.scenario ?? 'realistic'}) at ${ground.siteUrl} through ${proxyUrls.length} proxies`);
}

const manager = await SessionManager.open<PlaywrightHookExtras>({
    proxyUrls: proxyUrls.length ? proxyUrls : undefined,
    pool: { size: input.poolSize ?? 4 },
    rules: ground ? [locationRule(ground.siteUrl, input.location ?? 'DE')] : [],
});

const crawler = new PlaywrightCrawler(
    withSessions(
        {
            maxRequestsPerCrawl: input.maxRequestsPerCrawl ?? 60,
            maxConcurrency: input.maxConcurrency ?? 3,
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
await crawler.run(startUrls);
log.info(`sessionpack: ${JSON.stringify(manager.stats().totals.counters)}`);
await manager.close();
await ground?.close();
await Actor.exit();
