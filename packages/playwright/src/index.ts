export {
    withSessions,
    type PlaywrightHookExtras,
    type PlaywrightSessionCrawlerOptions,
    type PlaywrightSessionsOptions,
} from './with-sessions.js';
export { PlaywrightDriver, sharedLauncher, type PlaywrightDriverOptions } from './playwright-driver.js';
export type { BrowserInitTools } from '@sessionpack/browser';
