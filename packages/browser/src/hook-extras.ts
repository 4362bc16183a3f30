/** What both browser adapters add to a rule's hook states, for their own `Page` and `Response` types. */
import type { BrowserInitTools } from './browser-sessions.js';

/** `newPage()` in `init`, the crawled `page` (and its navigation's response) in `check`, the page in `prepare`. */
export interface BrowserHookExtras<Page, Response> {
    init: BrowserInitTools<Page>;
    check: {
        /** The crawled page, rendered. */
        page: Page;
        /** The navigation's response, when there was one. */
        pageResponse?: Response | null | undefined;
    };
    prepare: {
        /** The page about to navigate, with the session's identity and cookies (blank in a new tab; in the tab the session kept, still on its last page). */
        page: Page;
    };
}
