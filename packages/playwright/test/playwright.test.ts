import { PlaywrightCrawler } from '@crawlee/playwright';
import type { Page } from 'playwright';

import { browserAdapterSuite } from '../../browser/test/adapter-suite.js';
import { withSessions } from '../src/index.js';

browserAdapterSuite({
    name: 'PlaywrightCrawler',
    Crawler: PlaywrightCrawler,
    withSessions,
    countContexts: async (page: Page) => page.context().browser()!.contexts().length,
    countContextsNow: (page: Page) => page.context().browser()!.contexts().length,
    countTabs: async (page: Page) => page.context().browser()!.contexts().reduce((n, c) => n + c.pages().length, 0),
    contextOf: (page: Page) => page.context(),
    submitLocation: async (page: Page, location: string) => {
        await page.selectOption('select[name=location]', location);
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    },
});
