export {
    withSessions,
    type PuppeteerHookExtras,
    type PuppeteerSessionCrawlerOptions,
    type PuppeteerSessionsOptions,
} from './with-sessions.js';
export { PuppeteerDriver, sharedLauncher, type PuppeteerDriverOptions } from './puppeteer-driver.js';
export type { BrowserInitTools } from '@sessionpack/browser';
