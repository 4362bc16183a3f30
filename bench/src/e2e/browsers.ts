/**
 * The browser half of the end-to-end benchmark: PlaywrightCrawler and PuppeteerCrawler, each with sessionpack and
 * stock, on Debian's Chromium (resolved by @sessionpack/browser: $CHROMIUM_PATH, /usr/bin/chromium, the library's own).
 *
 * Stock browser crawlers get `useIncognitoPages: true`: without it Crawlee 3 sends every page of a browser through
 * that browser's first proxy, whatever `proxyInfo` says, so the proxy list would not be used at all.
 */
import { Configuration, ProxyConfiguration, type Session } from '@crawlee/core';
import { PlaywrightCrawler } from '@crawlee/playwright';
import { PuppeteerCrawler } from '@crawlee/puppeteer';
import { chromiumLaunchArgs, resolveChromiumPath } from '@sessionpack/browser';
import { SessionManager } from '@sessionpack/core';
import { withSessions as withPlaywrightSessions } from '@sessionpack/playwright';
import type { ProvingGround } from '@sessionpack/proving-ground';
import { withSessions as withPuppeteerSessions } from '@sessionpack/puppeteer';
import type { Page as PlaywrightPage } from 'playwright';
import type { Page as PuppeteerPage } from 'puppeteer';

import { derive } from '../shared/prng.js';
import { LOCATION, shopRule, stockBrowserWarmUp, type WarmUpPage } from './shop.js';
import { MAX_RETRIES, productOf, productUrls, rowFrom, type E2eRow } from './index.js';

export type BrowserName = 'playwright' | 'puppeteer';

/** Pages in flight per browser crawler, fixed (minConcurrency = maxConcurrency) for both variants: a 2-core machine runs a handful of Chromium pages at a time. */
export const BROWSER_CONCURRENCY = 4;

interface BrowserRuns {
    sessionpack(pg: ProvingGround, pages: number, seed: number): Promise<E2eRow>;
    stock(pg: ProvingGround, pages: number): Promise<E2eRow>;
}

type PriceOf = (page: never) => Promise<{ location: string | null } | undefined>;

const playwrightPrice = async (page: PlaywrightPage) =>
    page.$eval('.price', (el) => ({ location: el.getAttribute('data-location') })).catch(() => undefined);
const puppeteerPrice = async (page: PuppeteerPage) =>
    page.$eval('.price', (el) => ({ location: el.getAttribute('data-location') })).catch(() => undefined);

function playwrightWarmUpPage(page: PlaywrightPage): WarmUpPage {
    return {
        goto: (url) => page.goto(url),
        hasLocationForm: async () => (await page.$('select[name=location]')) !== null,
        cookieNames: async () => (await page.context().cookies()).map((c) => c.name),
        chooseLocation: async (location) => {
            await page.selectOption('select[name=location]', location);
            await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
        },
        currentLocation: () => page.textContent('#current-location'),
    };
}

function puppeteerWarmUpPage(page: PuppeteerPage): WarmUpPage {
    return {
        goto: (url) => page.goto(url),
        hasLocationForm: async () => (await page.$('select[name=location]')) !== null,
        cookieNames: async () => (await page.cookies()).map((c) => c.name),
        chooseLocation: async (location) => {
            await page.select('select[name=location]', location);
            await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
        },
        currentLocation: () => page.$eval('#current-location', (el) => el.textContent).catch(() => null),
    };
}

export function browserRuns(browser: BrowserName): BrowserRuns {
    const Crawler = (browser === 'playwright' ? PlaywrightCrawler : PuppeteerCrawler) as unknown as new (options: object, config: Configuration) => {
        run(urls: string[]): Promise<unknown>;
    };
    const crawlerName = browser === 'playwright' ? 'PlaywrightCrawler' : 'PuppeteerCrawler';
    const priceOf = (browser === 'playwright' ? playwrightPrice : puppeteerPrice) as PriceOf;
    const withSessions = (browser === 'playwright' ? withPlaywrightSessions : withPuppeteerSessions) as (options: object, manager: SessionManager) => object;
    const warmUpPage = (browser === 'playwright' ? playwrightWarmUpPage : puppeteerWarmUpPage) as (page: never) => WarmUpPage;

    const handler = (counter: { extracted: number }) => async ({ page, session }: { page: never; session?: Session }) => {
        if (productOf(await priceOf(page), session) === LOCATION) counter.extracted++;
    };

    return {
        async sessionpack(pg, pages, seed) {
            const config = new Configuration({ persistStorage: false });
            const manager = await SessionManager.open({
                proxyUrls: [...pg.proxyUrls],
                rules: [shopRule(pg.siteUrl)],
                store: false,
                statsIntervalSecs: 0,
                random: derive(seed, 'e2e', browser, 'sessionpack'),
                config,
            });
            const counter = { extracted: 0, failed: 0 };
            const crawler = new Crawler(
                withSessions(
                    {
                        minConcurrency: BROWSER_CONCURRENCY,
                        maxConcurrency: BROWSER_CONCURRENCY,
                        maxRequestRetries: MAX_RETRIES,
                        maxSessionRotations: MAX_RETRIES,
                        requestHandler: handler(counter),
                        failedRequestHandler: async () => void counter.failed++,
                    },
                    manager,
                ),
                config,
            );
            const started = Date.now();
            await crawler.run(productUrls(pg, pages));
            const seconds = (Date.now() - started) / 1000;
            await manager.close();
            return rowFrom(pg.stats(), { crawler: crawlerName, variant: 'sessionpack', pagesWanted: pages, extracted: counter.extracted, failed: counter.failed, seconds });
        },

        async stock(pg, pages) {
            const config = new Configuration({ persistStorage: false });
            const counter = { extracted: 0, failed: 0 };
            const crawler = new Crawler(
                {
                    proxyConfiguration: new ProxyConfiguration({ proxyUrls: [...pg.proxyUrls] }),
                    minConcurrency: BROWSER_CONCURRENCY,
                    maxConcurrency: BROWSER_CONCURRENCY,
                    maxRequestRetries: MAX_RETRIES,
                    maxSessionRotations: MAX_RETRIES,
                    launchContext: {
                        useIncognitoPages: true,
                        launchOptions: {
                            executablePath: resolveChromiumPath(),
                            args: chromiumLaunchArgs([], { noSandboxAsRoot: browser === 'puppeteer' }),
                        },
                    },
                    preNavigationHooks: [
                        async ({ page, session }: { page: never; session?: Session }) => stockBrowserWarmUp(pg.siteUrl, session, warmUpPage(page)),
                    ],
                    requestHandler: handler(counter),
                    failedRequestHandler: async () => void counter.failed++,
                },
                config,
            );
            const started = Date.now();
            await crawler.run(productUrls(pg, pages));
            const seconds = (Date.now() - started) / 1000;
            return rowFrom(pg.stats(), { crawler: crawlerName, variant: 'stock', pagesWanted: pages, extracted: counter.extracted, failed: counter.failed, seconds });
        },
    };
}
