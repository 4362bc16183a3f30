import { PuppeteerCrawler } from '@crawlee/puppeteer';
import type { Page } from 'puppeteer';

import { browserAdapterSuite } from '../../browser/test/adapter-suite.js';
import { withSessions } from '../src/index.js';

browserAdapterSuite({
    name: 'PuppeteerCrawler',
    Crawler: PuppeteerCrawler,
    withSessions,
    // The default context is always there; only the sessions' count.
    countContexts: async (page: Page) => page.browser().browserContexts().length - 1,
    countContextsNow: (page: Page) => page.browser().browserContexts().length - 1,
    countTabs: async (page: Page) => {
        const browser = page.browser();
        const contexts = browser.browserContexts().filter((c) => c !== browser.defaultBrowserContext());
        return (await Promise.all(contexts.map(async (c) => (await c.pages()).length))).reduce((a, b) => a + b, 0);
    },
    contextOf: (page: Page) => page.browserContext(),
    submitLocation: async (page: Page, location: string) => {
        await page.select('select[name=location]', location);
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    },
    noSandboxAsRoot: true,
});
