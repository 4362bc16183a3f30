export { withSessions } from './with-sessions.js';
export type { CheerioHookExtras, GotOptions, SessionCrawlerOptions } from './types.js';
